// The one table from the agent's wire error codes to engine error codes (the guest edge).
import { clipText } from "../core/capped-bytes.js";
import { AgentisoError, type ErrorCode } from "../core/errors.js";
import type { ErrorMessage, WireErrorCode } from "../protocol/index.js";

const WIRE_TO_ERROR: Record<WireErrorCode, ErrorCode> = {
  FRAME_ERROR: "INTERNAL", // our own encoder produced a bad frame: a bug
  INVALID_REQUEST: "INVALID_INPUT",
  UNKNOWN_TYPE: "UNSUPPORTED", // an older agent in the image
  DUPLICATE_ID: "INTERNAL",
  VERSION_MISMATCH: "UNSUPPORTED",
  NOT_FOUND: "NOT_FOUND",
  ALREADY_EXISTS: "CONFLICT",
  CONFLICT: "CONFLICT",
  TOO_LARGE: "TOO_LARGE",
  PERMISSION_DENIED: "PERMISSION_DENIED",
  TIMEOUT: "TIMEOUT",
  CANCELLED: "CANCELLED",
  EXEC_FAILED: "INVALID_INPUT", // no such program or working directory
  UNSUPPORTED: "UNSUPPORTED",
  INTERNAL: "INTERNAL",
};

// Converts an agent `error` message into an AgentisoError; details.wireCode keeps the original.
// The agent's text (the workspace's choice, up to a frame) is clipped before anyone logs or repeats it.
export function fromWireError(message: ErrorMessage, what: string): AgentisoError {
  return new AgentisoError(WIRE_TO_ERROR[message.code] ?? "INTERNAL", `${what}: ${clipText(message.message)}`, {
    details: { wireCode: message.code },
  });
}

// The error every in-flight request gets when the transport to the agent is gone.
export function guestUnreachable(reason: string, cause?: unknown): AgentisoError {
  return new AgentisoError("GUEST_UNREACHABLE", `guest agent unreachable: ${reason}`, cause === undefined ? {} : { cause });
}

// Maps an aborted signal's reason: our deadline → TIMEOUT, the caller's abort → CANCELLED.
export function abortedError(signal: AbortSignal, what: string): AgentisoError {
  const reason: unknown = signal.reason;
  if (reason instanceof AgentisoError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new AgentisoError("TIMEOUT", `${what} did not finish before its deadline`, { cause: reason });
  }
  return new AgentisoError("CANCELLED", `${what} was cancelled`, { cause: reason });
}
