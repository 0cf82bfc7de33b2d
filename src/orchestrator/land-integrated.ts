// Lands the integrated branch where merge = "branch-per-task" lands its branches (merge.ts):
// in the host repository the golden was cloned from — through host-git, one commit per
// integration step, without a checkout, hook, filter or fsmonitor (docs/security.md) — or, for
// a git URL, in the golden workspace's repository as one commit.
import { commitPatchSeriesOnBranch, openHostRepo } from "../core/host-git.js";
import { commitPatchInWorkspace } from "../domain/commit-patch-in-workspace.js";
import type { GoldenWorkspace } from "../domain/golden-workspace.js";
import type { Engine } from "../engine/engine.js";
import type { GuestClient } from "../guest/guest-client.js";
import { isHostPath, type Plan } from "./plan.js";

export interface LandingInput {
  branch: string;
  /** One patch per integrated step, in order, each against the previous step. */
  steps: Array<{ patch: string; message: string[] }>;
  /** All steps as one patch against the golden commit (for a repository inside the golden). */
  combined: string;
  confinedTo?: string;
  signal?: AbortSignal;
}

const AUTHOR = { name: "agentiso", email: "agentiso@localhost" };

// Where the integrated branch goes for this plan: the host repo path, or "workspace:<golden>".
export function landingRepository(plan: Plan, golden: GoldenWorkspace): string {
  return plan.golden.repo !== undefined && isHostPath(plan.golden.repo) ? plan.golden.repo : `workspace:${golden.workspace.name}`;
}

// Writes the branch; resolves with its last commit, or why it could not (never throws).
export async function landIntegrated(engine: Engine<GuestClient>, plan: Plan, golden: GoldenWorkspace, input: LandingInput): Promise<{ ok: true; commit: string } | { ok: false; error: string }> {
  const signal = input.signal ? { signal: input.signal } : {};
  try {
    if (plan.golden.repo !== undefined && isHostPath(plan.golden.repo)) {
      const repo = await openHostRepo(plan.golden.repo, input.confinedTo !== undefined ? { confinedTo: input.confinedTo } : {});
      return { ok: true, commit: await commitPatchSeriesOnBranch(repo, { base: golden.commit, branch: input.branch, commits: input.steps, author: AUTHOR, ...signal }) };
    }
    const guest = await engine.workspaces.guest(golden.workspace.id, input.signal);
    const message = input.steps.map((s) => s.message[0]).join("; ");
    const commit = await commitPatchInWorkspace(guest, golden.repoDir, { base: golden.commit, branch: input.branch, patch: input.combined, message: `agentiso: integrated ${message}`, what: `landing ${input.branch}`, ...signal });
    return { ok: true, commit };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
