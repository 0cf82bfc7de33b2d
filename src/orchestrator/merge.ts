// merge = "branch-per-task": each successful task's patch becomes a commit on its own branch,
// agentiso/<run>/<task>, cut from the golden commit — in the host repository the golden was
// cloned from, or (for a git URL) in the golden workspace's repository. Patches that fail to
// apply, and tasks whose patches touch the same files, are reported.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../core/run-command.js";
import type { Engine } from "../engine/engine.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { GoldenWorkspace } from "./golden.js";
import { shell, shellQuote } from "./guest-shell.js";
import { isHostPath, type Plan } from "./plan.js";
import type { ProgressEvent, TaskResult } from "./task-result.js";

export interface MergeResult {
  task: string;
  branch: string;
  /** Where the branch lives: the host repo path, or "workspace:<golden>". */
  repository: string;
  ok: boolean;
  commit?: string;
  /** Why the patch did not apply. */
  error?: string;
  /** Other tasks whose patches change some of the same files (likely merge conflicts). */
  overlapsWith: string[];
}

const AUTHOR = ["-c", "user.name=agentiso", "-c", "user.email=agentiso@localhost"];

export async function mergeBranchPerTask(
  engine: Engine<GuestClient>,
  plan: Plan,
  golden: GoldenWorkspace,
  tasks: TaskResult[],
  progress: (e: ProgressEvent) => void,
  signal?: AbortSignal,
): Promise<MergeResult[]> {
  const mergeable = tasks.filter((t) => t.status === "succeeded" && t.patch.length > 0);
  const hostRepo = plan.golden.repo !== undefined && isHostPath(plan.golden.repo) ? plan.golden.repo : undefined;
  const results: MergeResult[] = [];
  for (const task of mergeable) {
    const branch = `agentiso/${golden.workspace.name}/${task.name}`;
    const overlapsWith = mergeable.filter((o) => o !== task && o.filesChanged.some((f) => task.filesChanged.includes(f))).map((o) => o.name);
    const applied = hostRepo
      ? await applyOnHost(hostRepo, golden.commit, branch, task, signal)
      : await applyInGolden(engine, golden, branch, task, signal);
    const result: MergeResult = { task: task.name, branch, repository: hostRepo ?? `workspace:${golden.workspace.name}`, overlapsWith, ...applied };
    progress({ type: "merge", task: task.name, branch, ok: result.ok, ...(result.error !== undefined && { detail: result.error }) });
    results.push(result);
  }
  return results;
}

async function applyOnHost(repo: string, base: string, branch: string, task: TaskResult, signal?: AbortSignal): Promise<{ ok: boolean; commit?: string; error?: string }> {
  const scratch = await mkdtemp(join(tmpdir(), "agentiso-merge-"));
  const worktree = join(scratch, "worktree");
  const git = (...args: string[]) => runCommand(["git", ...AUTHOR, "-C", worktree, ...args], { ...(signal && { signal }) });
  try {
    await runCommand(["git", "-C", repo, "worktree", "add", "--quiet", "-b", branch, worktree, base], { ...(signal && { signal }) });
    const patchFile = join(scratch, "task.patch");
    await writeFile(patchFile, task.patch);
    try {
      await git("apply", "--index", "--binary", patchFile);
    } catch (err) {
      await runCommand(["git", "-C", repo, "worktree", "remove", "--force", worktree], { check: false });
      await runCommand(["git", "-C", repo, "branch", "-D", branch], { check: false });
      return { ok: false, error: `patch does not apply: ${(err as Error).message}` };
    }
    await git("commit", "--quiet", "-m", `agentiso: ${task.name}`, "-m", task.summary.slice(0, 2000));
    const commit = (await git("rev-parse", "HEAD")).stdout.trim();
    return { ok: true, commit };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    await runCommand(["git", "-C", repo, "worktree", "remove", "--force", worktree], { check: false });
    await rm(scratch, { recursive: true, force: true });
  }
}

async function applyInGolden(engine: Engine<GuestClient>, golden: GoldenWorkspace, branch: string, task: TaskResult, signal?: AbortSignal): Promise<{ ok: boolean; commit?: string; error?: string }> {
  try {
    const guest = await engine.workspaces.guest(golden.workspace.id, signal);
    const patchPath = `/tmp/agentiso-${task.name}.patch`;
    await guest.writeFile(patchPath, task.patch, {}, signal ? { signal } : {});
    const script = [
      `git checkout --quiet -b ${shellQuote(branch)} ${shellQuote(golden.commit)}`,
      `git apply --index --binary ${shellQuote(patchPath)}`,
      `git -c user.name=agentiso -c user.email=agentiso@localhost commit --quiet -m ${shellQuote(`agentiso: ${task.name}`)}`,
      "git rev-parse HEAD",
    ].join(" && ");
    const out = await shell(guest, `${script}; status=$?; git checkout --quiet --detach ${shellQuote(golden.commit)}; rm -f ${shellQuote(patchPath)}; exit $status`, `applying ${task.name}'s patch`, {
      cwd: golden.repoDir,
      ...(signal && { signal }),
    });
    return { ok: true, commit: out.trim().split("\n").pop()! };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
