// Small helpers to run shell in a workspace and fail with the command's own output.
import { AgentisoError } from "../core/errors.js";
import type { GuestClient } from "../guest/guest-client.js";

export interface ShellOptions {
  cwd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: Record<string, string>;
}

// Runs `sh -c script`; resolves with stdout, throws BACKEND_FAILED with stderr on non-zero exit.
export async function shell(guest: GuestClient, script: string, what: string, options: ShellOptions = {}): Promise<string> {
  const result = await guest.exec(
    {
      shell: script,
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      ...(options.env !== undefined && { env: options.env }),
      commandTimeoutMs: options.timeoutMs ?? 600_000,
    },
    options.signal ? { signal: options.signal } : {},
  );
  if (result.exitCode !== 0) {
    const output = `${result.stderr ?? ""}${result.stdout ?? ""}`.trim().slice(-2000);
    const how = result.timedOut ? "timed out" : result.exitCode === null ? `was killed by ${result.signal}` : `exited with ${result.exitCode}`;
    throw new AgentisoError("BACKEND_FAILED", `${what} ${how}${output ? `: ${output}` : ""}`, { details: { command: script, exitCode: result.exitCode } });
  }
  return result.stdout ?? "";
}

/** Quotes a value for sh. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
