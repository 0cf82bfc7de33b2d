// git in the target of workspace_merge: a source's patch applied (plainly, else three-way) and
// committed, on the target's own branch (cherry-pick) or on a branch of its own that is then
// merged with --no-ff (branch-per-source). Whatever fails leaves the target as it was before
// that source: the tracked tree is clean when the merge starts, so `reset --hard` loses nothing.
import { randomBytes } from "node:crypto";
import type { GuestClient } from "../guest/guest-client.js";
import { runChecked, shellQuote } from "../guest/run-checked.js";

const AUTHOR = "-c user.name=agentiso -c user.email=agentiso@localhost";

export interface TargetRepo {
  guest: GuestClient;
  repoDir: string;
  signal: AbortSignal;
}

/** Where the target's HEAD is: its branch (null when detached) and commit. */
export interface TargetHead {
  branch: string | null;
  commit: string;
}

export type Applied = { ok: true; commit: string; branch?: string } | { ok: false; files: string[]; detail: string; branch?: string };

// Runs a script in the repo; the result whatever the exit, with output for the caller to read.
async function sh(repo: TargetRepo, script: string, what: string) {
  return runChecked(repo.guest, { shell: script }, { what, cwd: repo.repoDir, allowFailure: true, signal: repo.signal });
}

// HEAD's branch and commit, and the tracked files with uncommitted changes (none may be, to merge).
export async function inspectTarget(repo: TargetRepo): Promise<TargetHead & { dirty: string[] }> {
  const script = "git rev-parse HEAD && { git symbolic-ref --quiet --short HEAD || echo; } && git status --porcelain --untracked-files=no";
  const out = await runChecked(repo.guest, { shell: script }, { what: `git in the target's ${repo.repoDir}`, errorCode: "INVALID_STATE", cwd: repo.repoDir, signal: repo.signal });
  const [commit = "", branch = "", ...dirty] = out.stdout.split("\n");
  return { commit: commit.trim(), branch: branch.trim() || null, dirty: dirty.filter(Boolean).map((line) => line.slice(3)) };
}

// The target's last `max` commits, newest first: the candidates for a source's base.
export async function recentCommits(repo: TargetRepo, max: number): Promise<string[]> {
  const out = await runChecked(repo.guest, { argv: ["git", "rev-list", `--max-count=${max}`, "HEAD"] }, { what: "git rev-list in the target", errorCode: "INVALID_STATE", cwd: repo.repoDir, signal: repo.signal });
  return out.stdout.split("\n").filter(Boolean);
}

// Applies and commits the patch on the current HEAD; on failure the work tree is put back.
export async function applyAndCommit(repo: TargetRepo, patch: string, message: string): Promise<Applied> {
  const path = `/tmp/agentiso-merge-${randomBytes(6).toString("hex")}.patch`;
  await repo.guest.upload(path, Buffer.from(patch, "utf8"), {}, { signal: repo.signal });
  const p = shellQuote(path);
  const apply = `{ git apply --index --binary --whitespace=nowarn ${p} 2>/dev/null || git apply --3way --index --binary --whitespace=nowarn ${p}; }`;
  const script = `${apply} && git ${AUTHOR} commit --quiet --no-verify -m ${shellQuote(message)} && git rev-parse HEAD; status=$?; rm -f ${p}; exit $status`;
  const result = await sh(repo, script, "applying a patch in the target");
  if (result.exitCode === 0) return { ok: true, commit: result.stdout.trim().split("\n").pop()! };
  const files = await conflictedFiles(repo);
  await sh(repo, "git reset --quiet --hard HEAD", "resetting the target");
  return { ok: false, files, detail: tailOf(result) };
}

// branch-per-source: the patch committed on a new branch at HEAD, merged back with --no-ff. A
// patch that does not apply leaves no branch; a merge that conflicts is aborted and its branch
// kept, for a person to merge by hand.
export async function applyOnBranch(repo: TargetRepo, head: TargetHead, branch: string, patch: string, message: string): Promise<Applied> {
  const back = head.branch !== null ? shellQuote(head.branch) : `--detach ${shellQuote(head.commit)}`;
  const created = await sh(repo, `git checkout --quiet -b ${shellQuote(branch)} --`, `creating ${branch}`);
  if (created.exitCode !== 0) return { ok: false, files: [], detail: tailOf(created) };
  const applied = await applyAndCommit(repo, patch, message);
  await sh(repo, `git checkout --quiet ${back} --`, "returning to the target's branch");
  if (!applied.ok) {
    await sh(repo, `git branch --quiet -D ${shellQuote(branch)}`, `deleting ${branch}`);
    return applied;
  }
  const merged = await sh(repo, `git ${AUTHOR} merge --quiet --no-ff --no-verify --no-edit -m ${shellQuote(message)} ${shellQuote(branch)} && git rev-parse HEAD`, `merging ${branch}`);
  if (merged.exitCode === 0) return { ok: true, commit: merged.stdout.trim().split("\n").pop()!, branch };
  const files = await conflictedFiles(repo);
  await sh(repo, "git merge --abort || git reset --quiet --hard HEAD", "aborting the merge");
  return { ok: false, files, detail: tailOf(merged), branch };
}

// Whether a branch of that name exists in the target.
export async function branchExists(repo: TargetRepo, branch: string): Promise<boolean> {
  return (await sh(repo, `git rev-parse --verify --quiet ${shellQuote(`refs/heads/${branch}`)}`, "looking up a branch")).exitCode === 0;
}

async function conflictedFiles(repo: TargetRepo): Promise<string[]> {
  const out = await sh(repo, "git diff --name-only --diff-filter=U", "listing conflicts");
  return out.stdout.split("\n").filter(Boolean);
}

function tailOf(result: { stdout: string; stderr: string; exitCode: number | null }): string {
  return `${result.stderr}${result.stdout}`.trim().slice(-2000) || `git exited with ${String(result.exitCode)}`;
}
