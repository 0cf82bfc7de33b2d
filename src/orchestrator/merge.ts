// merge = "branch-per-task": each successful task's patch becomes a commit on its own branch,
// agentiso/<run>/<task>, cut from the golden commit — in the host repository the golden was
// cloned from, or (for a git URL) in the golden workspace's repository. Patches that fail to
// apply, and tasks whose patches touch the same files, are reported. On the host, a patch is
// untrusted content about to be written by root: it goes through host-git, which commits it
// without a checkout and with every hook, filter and fsmonitor off.
import { commitPatchOnBranch, openHostRepo, type HostRepo } from "../core/host-git.js";
import type { Engine } from "../engine/engine.js";
import type { GuestClient } from "../guest/guest-client.js";
import { commitPatchInWorkspace } from "../domain/commit-patch-in-workspace.js";
import type { GoldenWorkspace } from "../domain/golden-workspace.js";
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

const AUTHOR = { name: "agentiso", email: "agentiso@localhost" };

export interface MergeOptions {
  /** Set when the plan came from an MCP session: the host repo must lie (self-contained) inside it. */
  confinedTo?: string;
  signal?: AbortSignal;
}

export async function mergeBranchPerTask(
  engine: Engine<GuestClient>,
  plan: Plan,
  golden: GoldenWorkspace,
  tasks: TaskResult[],
  progress: (e: ProgressEvent) => void,
  options: MergeOptions = {},
): Promise<MergeResult[]> {
  const { signal } = options;
  const mergeable = tasks.filter((t) => t.status === "succeeded" && t.patch.length > 0);
  const hostPath = plan.golden.repo !== undefined && isHostPath(plan.golden.repo) ? plan.golden.repo : undefined;
  const hostRepo = hostPath === undefined ? undefined : await openHostRepo(hostPath, { ...(options.confinedTo !== undefined && { confinedTo: options.confinedTo }) }).catch((err: unknown) => err as Error);
  const results: MergeResult[] = [];
  for (const task of mergeable) {
    const branch = `agentiso/${golden.workspace.name}/${task.name}`;
    const overlapsWith = mergeable.filter((o) => o !== task && o.filesChanged.some((f) => task.filesChanged.includes(f))).map((o) => o.name);
    const applied =
      hostRepo instanceof Error
        ? { ok: false, error: hostRepo.message }
        : hostRepo
          ? await applyOnHost(hostRepo, golden.commit, branch, task, signal)
          : await applyInGolden(engine, golden, branch, task, signal);
    const result: MergeResult = { task: task.name, branch, repository: hostPath ?? `workspace:${golden.workspace.name}`, overlapsWith, ...applied };
    progress({ type: "merge", task: task.name, branch, ok: result.ok, ...(result.error !== undefined && { detail: result.error }) });
    results.push(result);
  }
  return results;
}

async function applyOnHost(repo: HostRepo, base: string, branch: string, task: TaskResult, signal?: AbortSignal): Promise<{ ok: boolean; commit?: string; error?: string }> {
  try {
    const message = [`agentiso: ${task.name}`, ...(task.summary.trim() ? [task.summary.slice(0, 2000)] : [])];
    const commit = await commitPatchOnBranch(repo, { base, branch, patch: task.patch, message, author: AUTHOR, ...(signal && { signal }) });
    return { ok: true, commit };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

async function applyInGolden(engine: Engine<GuestClient>, golden: GoldenWorkspace, branch: string, task: TaskResult, signal?: AbortSignal): Promise<{ ok: boolean; commit?: string; error?: string }> {
  try {
    const guest = await engine.workspaces.guest(golden.workspace.id, signal);
    const commit = await commitPatchInWorkspace(guest, golden.repoDir, {
      base: golden.commit,
      branch,
      patch: task.patch,
      message: `agentiso: ${task.name}`,
      what: `applying ${task.name}'s patch`,
      ...(signal && { signal }),
    });
    return { ok: true, commit };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
