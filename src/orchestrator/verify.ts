// Verification: the plan's `[run] verify` commands, run in order in a workspace's repository
// after an agent (or a resolver, or a patch applied during integration) changed it. The first
// command that does not exit 0 decides: its exit code and the tail of its output go into the
// report. A verify that fails is a result (data), not an error.
import type { CommandRunner } from "../guest/run-checked.js";

/** How much of a failing command's output the report keeps. */
export const VERIFY_OUTPUT_TAIL_CHARS = 4000;

export type VerifyOutcome =
  | { passed: true; durationMs: number }
  | { passed: false; durationMs: number; command: string; exitCode: number | null; timedOut: boolean; outputTail: string };

export interface VerifyOptions {
  /** Where the commands run: the repository inside the workspace. */
  cwd: string;
  /** Each command's deadline inside the workspace. */
  timeoutMs: number;
  signal?: AbortSignal;
  env?: Record<string, string>;
}

// Runs each command with /bin/sh -c in cwd, stopping at the first failure. No commands: passed.
export async function runVerify(guest: CommandRunner, commands: readonly string[], options: VerifyOptions): Promise<VerifyOutcome> {
  const started = performance.now();
  for (const command of commands) {
    const result = await guest.exec(
      { shell: command, cwd: options.cwd, commandTimeoutMs: options.timeoutMs, ...(options.env && { env: options.env }) },
      options.signal ? { signal: options.signal } : {},
    );
    if (result.exitCode === 0 && !result.timedOut) continue;
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
    return {
      passed: false,
      durationMs: performance.now() - started,
      command,
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      outputTail: output.slice(-VERIFY_OUTPUT_TAIL_CHARS),
    };
  }
  return { passed: true, durationMs: performance.now() - started };
}

// One line for a report or a prompt: which command failed and how.
export function describeVerifyFailure(outcome: Extract<VerifyOutcome, { passed: false }>): string {
  const how = outcome.timedOut ? "timed out" : outcome.exitCode === null ? "was killed" : `exited with ${outcome.exitCode}`;
  return `verify command \`${outcome.command}\` ${how}`;
}
