// workspace_merge: other workspaces' changes brought into one target workspace. Each source's
// change is what its repository holds — commits and uncommitted edits, new files included —
// against the newest commit of the target that the source has in its history (forks of one
// golden share it), taken as one binary patch in the source (collect-changes.ts, capped by
// [caps] patchBytes; the source's own index is left alone) and applied in the target. git runs
// only inside the workspaces; the daemon holds one patch at a time. Sources go in order; one
// that does not apply is reported and the next one goes on.
import { AgentisoError, isAgentisoError, toAgentisoError } from "../core/errors.js";
import type { GuestClient } from "../guest/guest-client.js";
import { runChecked, shellQuote } from "../guest/run-checked.js";
import { collectChanges } from "./collect-changes.js";
import { applyAndCommit, applyOnBranch, branchExists, inspectTarget, recentCommits, type Applied, type TargetRepo } from "./merge-target-git.js";

export type MergeStrategy = "branch-per-source" | "cherry-pick";

export interface MergeParty {
  name: string;
  guest: GuestClient;
}

export interface MergeOptions {
  repoDir: string;
  strategy: MergeStrategy;
  /** Prefix of the commit messages; default "merge workspace NAME". */
  commitMessage?: string;
  /** The commit every source's change is measured from; default: found per source. */
  base?: string;
  maxPatchBytes: number;
  signal: AbortSignal;
}

export interface SourceOutcome {
  source: string;
  status: "applied" | "unchanged" | "conflicted" | "failed";
  base?: string;
  files: string[];
  commit?: string;
  branch?: string;
  detail?: string;
}

export interface MergeOutcome {
  target: string;
  strategy: MergeStrategy;
  branch: string | null;
  commit: string;
  applied: string[];
  conflicted: string[];
  results: SourceOutcome[];
}

/** How far back in the target's history a source's base is looked for. */
export const BASE_SEARCH_COMMITS = 1000;

// Brings every source's changes into the target, one after the other.
export async function mergeWorkspaces(target: MergeParty, sources: readonly MergeParty[], options: MergeOptions): Promise<MergeOutcome> {
  const repo: TargetRepo = { guest: target.guest, repoDir: options.repoDir, signal: options.signal };
  const head = await inspectTarget(repo);
  if (head.dirty.length > 0) {
    throw new AgentisoError("INVALID_STATE", `the target ${target.name} has uncommitted changes in ${options.repoDir} (${head.dirty.slice(0, 5).join(", ")}): commit them (git_commit) or discard them first`);
  }
  const candidates = options.base !== undefined ? [options.base] : await recentCommits(repo, BASE_SEARCH_COMMITS);
  const results: SourceOutcome[] = [];
  for (const source of sources) {
    results.push(await mergeOne(repo, head, source, candidates, options).catch((err: unknown) => failed(source.name, err)));
  }
  const after = await inspectTarget(repo);
  return {
    target: target.name,
    strategy: options.strategy,
    branch: after.branch,
    commit: after.commit,
    applied: results.filter((r) => r.status === "applied").map((r) => r.source),
    conflicted: results.filter((r) => r.status === "conflicted").map((r) => r.source),
    results,
  };
}

async function mergeOne(repo: TargetRepo, head: { branch: string | null }, source: MergeParty, candidates: string[], options: MergeOptions): Promise<SourceOutcome> {
  const base = await baseIn(source, candidates, options);
  if (base === undefined) {
    const detail = options.base !== undefined ? `commit ${options.base} is not in its history` : `it shares none of the target's last ${BASE_SEARCH_COMMITS} commits: give base`;
    return { source: source.name, status: "failed", files: [], detail: `no common commit with the target: ${detail}` };
  }
  const changes = await collectChanges(source.guest, options.repoDir, base, { maxBytes: options.maxPatchBytes, what: `the changes of ${source.name}`, signal: options.signal, scratchIndex: true });
  if (changes.patch === "") return { source: source.name, status: "unchanged", base, files: [] };
  const message = `${options.commitMessage ?? "merge workspace"} ${source.name}`;
  let applied: Applied;
  if (options.strategy === "cherry-pick") {
    applied = await applyAndCommit(repo, changes.patch, message);
  } else {
    const branch = `merge/${source.name}`;
    if (await branchExists(repo, branch)) return { source: source.name, status: "failed", base, files: changes.files, detail: `the target already has a branch ${branch}: delete it, or use cherry-pick` };
    const current = await inspectTarget(repo);
    applied = await applyOnBranch(repo, { branch: head.branch, commit: current.commit }, branch, changes.patch, message);
  }
  const outcome = { source: source.name, base, ...(applied.branch !== undefined && { branch: applied.branch }) };
  if (applied.ok) return { ...outcome, status: "applied", files: changes.files, commit: applied.commit };
  return { ...outcome, status: "conflicted", files: applied.files.length > 0 ? applied.files : changes.files, detail: applied.detail };
}

// The first candidate (newest first) that is an ancestor of the source's HEAD.
async function baseIn(source: MergeParty, candidates: string[], options: MergeOptions): Promise<string | undefined> {
  const loop = `for c in ${candidates.map(shellQuote).join(" ")}; do git merge-base --is-ancestor "$c" HEAD 2>/dev/null && { echo "$c"; exit 0; }; done; exit 3`;
  const found = await runChecked(source.guest, { shell: `git rev-parse --verify --quiet HEAD >/dev/null || { git rev-parse HEAD; exit 4; }; ${loop}` }, {
    what: `git in ${source.name}'s ${options.repoDir}`,
    cwd: options.repoDir,
    allowFailure: true,
    signal: options.signal,
  });
  if (found.exitCode === 3) return undefined;
  if (found.exitCode !== 0) throw new AgentisoError("INVALID_STATE", `git in ${source.name}'s ${options.repoDir} failed: ${`${found.stderr}${found.stdout}`.trim().slice(-500)}`);
  return found.stdout.trim();
}

function failed(source: string, err: unknown): SourceOutcome {
  if (isAgentisoError(err, "CANCELLED")) throw err;
  const error = toAgentisoError(err);
  return { source, status: "failed", files: [], detail: `${error.code}: ${error.message}` };
}
