// git inside a workspace, run through the guest agent: the status, diff, commit, log and
// checkout of the git_* operations, on one runner whose errors carry git's own words. The repo belongs to the
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

export interface GitLogEntry {
  hash: string;
  author: string;
  email: string;
  date: string;
  subject: string;
}

// Fields split by US (0x1f), commits ended by RS (0x1e): neither occurs in names or subjects.
const LOG_FORMAT = "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1e";
const LOG_OUTPUT_BYTES = 1024 * 1024;

// The newest maxCount commits from ref (touching file, when given); truncated when there are more.
export async function gitLogIn(guest: GuestClient, dir: string, options: { ref: string; maxCount: number; file?: string; signal: AbortSignal }): Promise<{ commits: GitLogEntry[]; truncated: boolean }> {
  const args = ["log", "--no-color", `--max-count=${options.maxCount + 1}`, LOG_FORMAT, options.ref, "--", ...(options.file !== undefined ? [options.file] : [])];
  const run = await gitIn(guest, dir, args, { maxOutputBytes: LOG_OUTPUT_BYTES, signal: options.signal });
  const records = run.stdout.split("\x1e");
  records.pop(); // after the last separator: a newline, or a record cut short by the output cap
  const commits = records.map((record) => {
    const [hash = "", author = "", email = "", date = "", subject = ""] = record.replace(/^\n/, "").split("\x1f");
    return { hash, author, email, date, subject };
  });
  return { commits: commits.slice(0, options.maxCount), truncated: commits.length > options.maxCount || run.truncated };
}

// Checks out ref (`--` after it: never read as a path, so no file is overwritten by a mistake),
// or creates branch ref at startPoint; answers where HEAD is now.
export async function gitCheckoutIn(guest: GuestClient, dir: string, options: { ref: string; create: boolean; startPoint?: string; signal: AbortSignal }): Promise<{ branch: string | null; commit: string }> {
  const { signal } = options;
  const target = options.create ? ["-b", options.ref, ...(options.startPoint !== undefined ? [options.startPoint] : [])] : [options.ref];
  await gitIn(guest, dir, ["checkout", "--quiet", ...target, "--"], { signal });
  const branch = await gitIn(guest, dir, ["symbolic-ref", "--quiet", "--short", "HEAD"], { allowFailure: true, signal });
  const commit = await gitIn(guest, dir, ["rev-parse", "HEAD"], { signal });
  return { branch: branch.exitCode === 0 ? branch.stdout.trim() : null, commit: commit.stdout.trim() };
}
