// The one table from error codes to HTTP statuses for the control API (the CLI has its own
// table for exit codes, MCP answers isError with the code).
import type { ErrorCode } from "../core/errors.js";

export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  INVALID_STATE: 409,
  CONFLICT: 409,
  TIMEOUT: 504,
  CANCELLED: 499,
  GUEST_UNREACHABLE: 502,
  BACKEND_FAILED: 500,
  QUOTA_EXCEEDED: 429,
  TOO_LARGE: 413,
  UNSUPPORTED: 501,
  PERMISSION_DENIED: 403,
  INTERNAL: 500,
};
