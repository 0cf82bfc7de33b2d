// Errors a handler throws to answer its request with `type:"error"`; OS errors map to wire
// codes here, in one table.
import type { WireErrorCode } from "../protocol/index.js";

/** A failure with a wire code; the connection turns it into an `error` message. */
export class WireError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "WireError";
  }
}

const ERRNO_CODES: Record<string, WireErrorCode> = {
  ENOENT: "NOT_FOUND",
  ENOTDIR: "NOT_FOUND",
  EEXIST: "ALREADY_EXISTS",
  ENOTEMPTY: "CONFLICT",
  EISDIR: "INVALID_REQUEST",
  EINVAL: "INVALID_REQUEST", // e.g. a directory moved into itself
  EACCES: "PERMISSION_DENIED",
  EPERM: "PERMISSION_DENIED",
  EROFS: "PERMISSION_DENIED",
  ECONNREFUSED: "NOT_FOUND",
  ETIMEDOUT: "TIMEOUT",
  EFBIG: "TOO_LARGE",
  ENOSPC: "TOO_LARGE",
};

// Turns anything a handler threw into a WireError with a code and a readable message.
export function toWireError(err: unknown): WireError {
  if (err instanceof WireError) return err;
  if (err instanceof Error && err.name === "AbortError") return new WireError("CANCELLED", "request cancelled");
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new WireError((errno && ERRNO_CODES[errno]) || "INTERNAL", message);
}
