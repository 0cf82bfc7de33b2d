// Runs git inside a workspace through the guest agent (shared by git_* and workspace_prepare).
import { AgentisoError } from "../core/errors.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { OperationContext } from "./operation.js";

export interface GitRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  truncated: boolean;
}

// Runs `git -C dir ARGS` in the workspace; a non-zero exit throws INVALID_STATE with git's own words unless allowFailure.
export async function gitIn(ctx: OperationContext, guest: GuestClient, dir: string, args: string[], options: { allowFailure?: boolean; maxOutputBytes?: number } = {}): Promise<GitRun> {
  const result = await guest.exec(
    { argv: ["git", "-C", dir, ...args], commandTimeoutMs: 600_000, ...(options.maxOutputBytes !== undefined && { maxOutputBytes: options.maxOutputBytes }) },
    { signal: ctx.signal },
  );
  if (result.exitCode !== 0 && !options.allowFailure) {
    const said = (result.stderr.trim() || result.stdout.trim()).slice(-2000);
    throw new AgentisoError("INVALID_STATE", `git ${args.find((a) => !a.startsWith("-") && !a.includes("=")) ?? ""} in ${dir} failed (exit ${String(result.exitCode)}): ${said}`, { details: { exitCode: result.exitCode } });
  }
  return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode, truncated: result.truncated };
}
