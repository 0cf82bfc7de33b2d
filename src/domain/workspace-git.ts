// git inside a workspace, run through the guest agent: the status, diff and commit of the git_*
// operations, on one runner whose errors carry git's own words. The repo belongs to the
// workspace's root, so git's "dubious ownership" check never triggers.
import type { GuestClient } from "../guest/guest-client.js";
import { runChecked } from "../guest/run-checked.js";
import { parseGitPorcelain, type GitStatus } from "./git-porcelain.js";

export interface GitRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  truncated: boolean;
}

export interface GitOptions {
  signal: AbortSignal;
  /** A non-zero exit is returned instead of thrown. */
  allowFailure?: boolean;
  maxOutputBytes?: number;
}

// Runs `git -C dir ARGS` in the workspace; a non-zero exit throws INVALID_STATE with git's own words unless allowFailure.
export async function gitIn(guest: GuestClient, dir: string, args: string[], options: GitOptions): Promise<GitRun> {
  const subcommand = args.find((a) => !a.startsWith("-") && !a.includes("=")) ?? "";
  const result = await runChecked(guest, { argv: ["git", "-C", dir, ...args] }, {
    what: `git ${subcommand} in ${dir}`,
    errorCode: "INVALID_STATE",
    wording: "failed-exit",
    output: "stderr|stdout",
    noOutput: "",
    signal: options.signal,
    ...(options.allowFailure !== undefined && { allowFailure: options.allowFailure }),
    ...(options.maxOutputBytes !== undefined && { maxOutputBytes: options.maxOutputBytes }),
  });
  return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode, truncated: result.truncated };
}

// Branch, upstream, ahead/behind and changed files of the repo in dir.
export async function gitStatusIn(guest: GuestClient, dir: string, signal: AbortSignal): Promise<GitStatus> {
  const run = await gitIn(guest, dir, ["status", "--porcelain=v1", "--branch", "-z", "--untracked-files=all"], { signal });
  return parseGitPorcelain(run.stdout);
}

// The patch of the work tree against ref, new files included as additions when asked.
export async function gitDiffIn(guest: GuestClient, dir: string, options: { ref: string; includeUntracked: boolean; maxBytes: number; signal: AbortSignal }): Promise<{ patch: string; truncated: boolean }> {
  if (options.includeUntracked) await gitIn(guest, dir, ["add", "--intent-to-add", "--all"], { signal: options.signal });
  const run = await gitIn(guest, dir, ["diff", "--no-color", "--no-ext-diff", options.ref, "--"], { maxOutputBytes: options.maxBytes, signal: options.signal });
  return { patch: run.stdout, truncated: run.truncated };
}

// Commits what is staged (everything first when all); the new commit, or null with nothing to commit.
export async function gitCommitIn(
  guest: GuestClient,
  dir: string,
  options: { message: string; all: boolean; author: { name: string; email: string }; signal: AbortSignal },
): Promise<string | null> {
  const { signal } = options;
  if (options.all) await gitIn(guest, dir, ["add", "--all"], { signal });
  const staged = await gitIn(guest, dir, ["diff", "--cached", "--quiet"], { allowFailure: true, signal });
  if (staged.exitCode === 0) return null;
  const who = ["-c", `user.name=${options.author.name}`, "-c", `user.email=${options.author.email}`];
  await gitIn(guest, dir, [...who, "commit", "--quiet", "--no-verify", "-m", options.message], { signal });
  return (await gitIn(guest, dir, ["rev-parse", "HEAD"], { signal })).stdout.trim();
}
