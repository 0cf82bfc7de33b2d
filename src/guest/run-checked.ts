// One way to run a command in a workspace when only success will do: a non-zero exit becomes
// one AgentisoError naming the command, how it ended and the tail of its output. Callers pick
// the error code and the wording their users already know (git's "failed (exit 128)", a setup
// command's "exited with 4"), so moving onto this helper changes no message.
import { AgentisoError, type ErrorCode } from "../core/errors.js";
import type { CallOptions, ExecOptions, ExecResult } from "./client-types.js";

/** What runChecked needs of a guest: a buffered exec (a GuestClient, or a test double). */
export interface CommandRunner {
  exec(command: ExecOptions, options?: CallOptions): Promise<ExecResult>;
}

/** argv runs without a shell; shell is a script for /bin/sh -c (quote values with shellQuote). */
export type GuestCommand = { argv: string[] } | { shell: string };

export interface RunCheckedOptions {
  /** Names the command at the start of the error, e.g. "git rev-parse" or "worker setup in /workspace". */
  what: string;
  /** Code of the error a failure becomes; default BACKEND_FAILED. */
  errorCode?: ErrorCode;
  /**
   * How the end reads: "exited" (default) says "exited with 2", "timed out" (with the deadline
   * when timeoutMs was given) or "was killed by SIGKILL"; "failed-exit" says "failed (exit 2)";
   * "failed" says just "failed".
   */
  wording?: "exited" | "failed-exit" | "failed";
  /** Output quoted: stderr then stdout (default), stdout then stderr, stderr else stdout, or stderr alone. */
  output?: "stderr+stdout" | "stdout+stderr" | "stderr|stdout" | "stderr";
  /** Characters of output kept from the end; default 2000. */
  tailChars?: number;
  /** Set to always end with ": <output>", this text standing in for no output; by default nothing is added then. */
  noOutput?: string;
  /** Extra fields for the error's details (the command, exit code and timedOut are always there). */
  details?: Record<string, unknown>;
  /** A non-zero exit is returned instead of thrown (e.g. `git diff --quiet`). */
  allowFailure?: boolean;
  cwd?: string;
  env?: Record<string, string>;
  /** The agent kills the command after this long; default 10 minutes. */
  timeoutMs?: number;
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 600_000;

// Runs the command and resolves with its result; a non-zero exit throws (unless allowFailure).
export async function runChecked(guest: CommandRunner, command: GuestCommand, options: RunCheckedOptions): Promise<ExecResult> {
  const result = await guest.exec(
    {
      ...command,
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      ...(options.env !== undefined && { env: options.env }),
      commandTimeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(options.maxOutputBytes !== undefined && { maxOutputBytes: options.maxOutputBytes }),
    },
    options.signal ? { signal: options.signal } : {},
  );
  if (result.exitCode !== 0 && !options.allowFailure) throw guestCommandFailed(command, result, options);
  return result;
}

// The error of a command that ended badly, worded as options ask (also for a caller whose
// command exited 0 but printed less than it must).
export function guestCommandFailed(command: GuestCommand, result: ExecResult, options: RunCheckedOptions): AgentisoError {
  const tail = outputOf(result, options.output ?? "stderr+stdout").trim().slice(-(options.tailChars ?? 2000));
  const said = tail || options.noOutput;
  const message = `${options.what} ${howItEnded(result, options)}${said === undefined ? "" : `: ${said}`}`;
  const details = { command: "argv" in command ? command.argv : command.shell, exitCode: result.exitCode, timedOut: result.timedOut, ...options.details };
  return new AgentisoError(options.errorCode ?? "BACKEND_FAILED", message, { details });
}

/** Quotes a value for sh. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function howItEnded(result: Pick<ExecResult, "exitCode" | "signal" | "timedOut">, options: RunCheckedOptions): string {
  if (options.wording === "failed") return "failed";
  if (options.wording === "failed-exit") return `failed (exit ${String(result.exitCode ?? result.signal)})`;
  if (result.timedOut) return options.timeoutMs === undefined ? "timed out" : `timed out after ${options.timeoutMs} ms`;
  return result.exitCode === null ? `was killed by ${String(result.signal)}` : `exited with ${result.exitCode}`;
}

function outputOf({ stdout, stderr }: Pick<ExecResult, "stdout" | "stderr">, order: NonNullable<RunCheckedOptions["output"]>): string {
  if (order === "stdout+stderr") return `${stdout}${stderr}`;
  if (order === "stderr|stdout") return stderr.trim() || stdout.trim();
  if (order === "stderr") return stderr;
  return `${stderr}${stdout}`;
}
