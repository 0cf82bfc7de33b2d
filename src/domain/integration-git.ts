// Git in the integration workspace (merge = "integrate"): patches applied one by one with a
// three-way fallback, each kept as one commit or reverted. The first commit holds whatever
// setup left in the work tree, so every later commit (and every revert, and the diff the
// reviewer reads) holds only what the patches and the resolver changed.
import { randomBytes } from "node:crypto";
import { CappedBytes } from "../core/capped-bytes.js";
import { AgentisoError } from "../core/errors.js";
import type { GuestClient } from "../guest/guest-client.js";
import { runChecked, shellQuote, type CommandRunner } from "../guest/run-checked.js";

const AUTHOR = "-c user.name=agentiso -c user.email=agentiso@localhost";
/** Lines added with a conflict marker at their start: an unresolved three-way merge. */
const MARKERS = "^\\+(<<<<<<<|>>>>>>>)( |$)";

export interface IntegrationGitOptions {
  repoDir: string;
  signal?: AbortSignal;
}

/** A patch applied to the work tree and index, or the conflict git reported (markers left in the files). */
export type PatchApplied = { ok: true } | { ok: false; detail: string };

// Checks out `branch` at base and commits the setup output on it; returns that commit (the diff base).
export async function startIntegrationBranch(guest: CommandRunner, branch: string, base: string, options: IntegrationGitOptions): Promise<string> {
  const script = [
    `git checkout --quiet -B ${shellQuote(branch)} ${shellQuote(base)}`,
    "git add -A",
    `git ${AUTHOR} commit --quiet --allow-empty --no-verify -m 'agentiso: setup output (not landed)'`,
    "git rev-parse HEAD",
  ].join(" && ");
  const out = await runChecked(guest, { shell: script }, { what: `starting ${branch}`, cwd: options.repoDir, ...signalOf(options) });
  return out.stdout.trim().split("\n").pop()!;
}

// `git apply --3way --index`: a patch that does not apply cleanly is merged against the blobs
// it was made from, leaving conflict markers; its output says which files conflicted.
export async function applyPatchThreeWay(guest: Pick<GuestClient, "exec" | "writeFile">, patch: string, options: IntegrationGitOptions): Promise<PatchApplied> {
  const path = `/tmp/agentiso-integrate-${randomBytes(6).toString("hex")}.patch`;
  await guest.writeFile(path, patch, {}, signalOf(options));
  const script = `git apply --3way --index --binary --whitespace=nowarn ${shellQuote(path)}; status=$?; rm -f ${shellQuote(path)}; exit $status`;
  const result = await runChecked(guest, { shell: script }, { what: "git apply --3way", cwd: options.repoDir, allowFailure: true, ...signalOf(options) });
  if (result.exitCode === 0) return { ok: true };
  return { ok: false, detail: `${result.stderr}${result.stdout}`.trim().slice(-4000) || `git apply exited with ${String(result.exitCode)}` };
}

/** What the work tree now changes against the last commit: its files, and whether conflict markers remain. */
export interface StagedChange {
  files: string[];
  markersLeft: boolean;
}

// Stages everything (a resolver's edits included) and reports what the commit would hold.
export async function stageAll(guest: CommandRunner, options: IntegrationGitOptions): Promise<StagedChange> {
  const script = `git add -A && git diff --cached --name-only -z HEAD && printf '\\0' && { git diff --cached -U0 HEAD | grep -Eq ${shellQuote(MARKERS)} && echo markers || true; }`;
  const out = await runChecked(guest, { shell: script }, { what: "staging the integration step", cwd: options.repoDir, ...signalOf(options) });
  const end = out.stdout.indexOf("\0\0");
  const names = end < 0 ? "" : out.stdout.slice(0, end);
  const files = names === "" ? [] : names.split("\0");
  return { files, markersLeft: out.stdout.slice(end + 2).includes("markers") };
}

// Commits what is staged; returns the new commit.
export async function commitStep(guest: CommandRunner, message: string, options: IntegrationGitOptions): Promise<string> {
  const script = `git ${AUTHOR} commit --quiet --no-verify -m ${shellQuote(message)} && git rev-parse HEAD`;
  const out = await runChecked(guest, { shell: script }, { what: "committing the integration step", cwd: options.repoDir, ...signalOf(options) });
  return out.stdout.trim().split("\n").pop()!;
}

// Puts the work tree and index back to the last commit: a skipped patch leaves nothing behind.
export async function revertStep(guest: CommandRunner, options: IntegrationGitOptions): Promise<void> {
  await runChecked(guest, { shell: "git reset --quiet --hard HEAD && git clean -fdq" }, { what: "reverting the integration step", cwd: options.repoDir, ...signalOf(options) });
}

// The binary diff between two commits, streamed: held up to maxBytes (one more is TOO_LARGE).
export async function diffBetween(guest: Pick<GuestClient, "execStream">, from: string, to: string, options: IntegrationGitOptions & { maxBytes: number }): Promise<string> {
  const stream = guest.execStream({ argv: ["git", "diff", "--binary", from, to], cwd: options.repoDir, commandTimeoutMs: 600_000 }, signalOf(options));
  const out = new CappedBytes({ what: "the integrated diff", maxBytes: options.maxBytes, keep: "all" });
  const stderr = new CappedBytes({ what: "git's stderr", maxBytes: Infinity, keep: "tail", windowBytes: 2000 });
  for await (const chunk of stream) (chunk.fd === 1 ? out : stderr).push(chunk.data);
  const result = await stream.result;
  if (result.exitCode !== 0) throw new AgentisoError("BACKEND_FAILED", `git diff ${from.slice(0, 12)} ${to.slice(0, 12)} exited with ${String(result.exitCode ?? result.signal)}: ${stderr.toString().trim()}`);
  return out.toString();
}

function signalOf(options: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}
