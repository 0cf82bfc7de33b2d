// Building a golden workspace in one call: create it from an image, clone a repo (URL or host
// path), run setup commands in order (fail fast, with the command's output), snapshot it. The
// workspace_prepare operation and the orchestrator both build their goldens here.
import type { CreateWorkspaceOptions } from "../engine/workspace-service.js";
import { networkPolicyOf, type WorkspaceRecord } from "../engine/workspace-record.js";
import type { NetworkPolicy } from "../core/network-allowlist.js";
import type { GuestClient } from "../guest/guest-client.js";
import { runChecked } from "../guest/run-checked.js";
import { cloneIntoWorkspace, type CloneSource } from "./git-clone.js";
import type { WorkspaceDeps } from "./workspace-deps.js";

export interface GoldenRecipe {
  /** How the workspace is created (name, image, runtime, resources); owner and signal come from the deps. */
  create: Omit<CreateWorkspaceOptions, "owner" | "signal">;
  /** The repo cloned into dest; without one, dest is only created. */
  source?: CloneSource;
  branch?: string;
  /** Where the repo goes inside the workspace, and where setup commands run. */
  dest: string;
  setup: readonly string[];
  setupTimeoutMs: number;
  /** Network while setup commands run: true for egress, or a whole policy (e.g. an allowlist of registries). */
  setupNetwork: boolean | NetworkPolicy;
  snapshot: string;
  /** Keep the workspace when a step fails (to debug it); by default it is destroyed. */
  keepOnFailure: boolean;
  /** Runs after setup, before the snapshot: what every fork must have (the orchestrator layers opencode in). */
  beforeSnapshot?: (guest: GuestClient) => Promise<void>;
}

export interface PreparedGolden {
  workspace: WorkspaceRecord;
  snapshot: string;
  /** HEAD of the cloned repo; null when no repo was given. */
  commit: string | null;
}

const SETUP_OUTPUT_TAIL_CHARS = 4000;

// Builds a golden workspace and its snapshot; on failure the workspace is destroyed unless keepOnFailure.
export async function prepareGolden(deps: WorkspaceDeps, recipe: GoldenRecipe): Promise<PreparedGolden> {
  const { engine, signal } = deps;
  const record = await engine.workspaces.create({ ...recipe.create, ...(deps.owner !== undefined && { owner: deps.owner }), signal });
  try {
    const guest = await engine.workspaces.guest(record.id, signal);
    let commit: string | null = null;
    if (recipe.source !== undefined) commit = await cloneIntoWorkspace(deps, record, guest, recipe.source, recipe.dest, recipe.branch);
    else await guest.mkdir(recipe.dest, { recursive: true }, { signal });
    await runSetup(deps, record, guest, recipe);
    await recipe.beforeSnapshot?.(guest);
    await engine.snapshots.create(record.id, recipe.snapshot);
    return { workspace: engine.workspaces.get(record.id), snapshot: recipe.snapshot, commit };
  } catch (err) {
    if (!recipe.keepOnFailure) await engine.workspaces.destroy(record.id).catch((cleanup: unknown) => deps.logger.warn("prepare cleanup failed", { workspace: record.id, err: cleanup }));
    throw err;
  }
}

async function runSetup(deps: WorkspaceDeps, record: WorkspaceRecord, guest: GuestClient, recipe: GoldenRecipe): Promise<void> {
  if (recipe.setup.length === 0) return;
  const workspaces = deps.engine.workspaces;
  const before = networkPolicyOf(workspaces.get(record.id));
  const during: NetworkPolicy | undefined = recipe.setupNetwork === true ? { mode: "egress", allow: [], deny: [] } : recipe.setupNetwork || undefined;
  const switched = during !== undefined && JSON.stringify(during) !== JSON.stringify(before);
  if (switched) await workspaces.setNetwork(record.id, during);
  try {
    for (const [index, command] of recipe.setup.entries()) {
      await runChecked(guest, { shell: command }, {
        what: `setup command ${index + 1} (${JSON.stringify(command)})`,
        errorCode: "INVALID_STATE",
        output: "stdout+stderr",
        tailChars: SETUP_OUTPUT_TAIL_CHARS,
        noOutput: "(no output)",
        cwd: recipe.dest,
        timeoutMs: recipe.setupTimeoutMs,
        signal: deps.signal,
        details: { index },
      });
    }
  } finally {
    if (switched) await workspaces.setNetwork(record.id, before).catch(() => {});
  }
}
