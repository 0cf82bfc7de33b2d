// The one table from error codes to CLI exit codes (documented in `agentiso --help`).
// `workspace exec` exits with the command's own code; agentiso's own failures there exit 125.
import { constants } from "node:os";
import type { ErrorCode } from "../core/errors.js";

export const EXIT_CODES: Record<ErrorCode, number> = {
  INTERNAL: 1,
  INVALID_INPUT: 2,
  NOT_FOUND: 3,
  INVALID_STATE: 4,
  CONFLICT: 5,
  TIMEOUT: 6,
  GUEST_UNREACHABLE: 7,
  BACKEND_FAILED: 8,
  QUOTA_EXCEEDED: 9,
  UNSUPPORTED: 10,
  PERMISSION_DENIED: 11,
  TOO_LARGE: 12,
  CANCELLED: 130,
};

export const EXEC_OWN_FAILURE_EXIT = 125;

export const EXIT_CODES_HELP = `Exit codes: 0 ok; 1 internal error; 2 invalid usage or input; 3 not found; 4 invalid state;
  5 conflict; 6 timeout; 7 workspace agent unreachable; 8 a host tool failed; 9 quota or rate
  limit; 10 unsupported here; 11 permission denied; 12 too large (a workspace produced more bytes
  than their cap); 130 cancelled.
  \`workspace exec\` exits with the command's exit code (125 when agentiso itself failed);
  \`workspace shell\` exits with the command's exit code (128+N when signal N killed it), or with
  the codes above when agentiso itself failed (3: no such workspace, 4: it is not running).`;

// How a command's end becomes agentiso's exit code, as a shell reports it: its own code, or 128+N for signal N.
export function commandExitCode(exitCode: number | null, signal: string | null): number {
  if (exitCode !== null) return exitCode;
  const number = signal ? (constants.signals as Record<string, number | undefined>)[signal] : undefined;
  return 128 + (number ?? 0);
}
