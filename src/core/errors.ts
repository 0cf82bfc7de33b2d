// The one error type that crosses layers. Callers branch on `code`, never on message text;
// each front door (MCP, CLI, control API) maps codes to its own form in one table.

export const ERROR_CODES = [
  "INVALID_INPUT", // the caller sent something malformed: fix the arguments
  "NOT_FOUND", // no such workspace, snapshot, image, file, job
  "INVALID_STATE", // the thing exists but is in a state that forbids this (e.g. exec on a stopped workspace)
  "CONFLICT", // name taken, snapshot has dependents, concurrent modification
  "TIMEOUT", // a deadline passed
  "CANCELLED", // the caller aborted
  "GUEST_UNREACHABLE", // the in-workspace agent does not answer (workspace died, transport closed)
  "BACKEND_FAILED", // a host tool (runc, btrfs, zfs, qemu) failed: see cause
  "QUOTA_EXCEEDED", // disk/memory/pids limit or a configured rate limit
  "TOO_LARGE", // bytes a workspace produced (patch, output, download, message) passed their cap
  "UNSUPPORTED", // this driver or machine cannot do it (e.g. zvols on zfs-fuse)
  "PERMISSION_DENIED", // path escapes its root, session does not own the workspace
  "INTERNAL", // a bug: please report
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AgentisoErrorOptions {
  cause?: unknown;
  /** Structured context for logs and API clients (never secrets). */
  details?: Record<string, unknown>;
}

export class AgentisoError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AgentisoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AgentisoError";
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export function isAgentisoError(value: unknown, code?: ErrorCode): value is AgentisoError {
  return value instanceof AgentisoError && (code === undefined || value.code === code);
}

// Wraps anything thrown into an AgentisoError so edges can always answer with a code.
export function toAgentisoError(value: unknown): AgentisoError {
  if (value instanceof AgentisoError) return value;
  if (value instanceof Error && value.name === "AbortError") {
    return new AgentisoError("CANCELLED", "operation cancelled", { cause: value });
  }
  if (value instanceof Error && value.name === "TimeoutError") {
    return new AgentisoError("TIMEOUT", "operation timed out", { cause: value });
  }
  const message = value instanceof Error ? value.message : String(value);
  return new AgentisoError("INTERNAL", message, { cause: value });
}
