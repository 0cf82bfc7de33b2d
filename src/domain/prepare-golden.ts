// Building a golden workspace in one call: create it from an image, clone a repo (URL or host
// path), run setup commands in order (fail fast, with the command's output), snapshot it. The
// workspace_prepare operation and the orchestrator both build their goldens here.
import { isAgentisoError } from "../core/errors.js";
import type { CreateWorkspaceOptions } from "../engine/workspace-service.js";
import { networkPolicyOf, type WorkspaceRecord } from "../engine/workspace-record.js";
import type { NetworkPolicy } from "../core/network-allowlist.js";
import type { GuestClient } from "../guest/guest-client.js";
import { runChecked } from "../guest/run-checked.js";
import type { NetworkMode } from "../runtimes/workspace-runtime.js";
import { cloneIntoWorkspace, cloneNeedsNetwork, type CloneSource } from "./git-clone.js";
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
  /** Save the machine's memory with the snapshot where the runtime can (VMs): forks then resume instead of booting. */
  snapshotMemory?: boolean;
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
  const network = goldenNetwork(deps, recipe);
  const record = await engine.workspaces.create({ ...recipe.create, ...(network && { network: "egress" }), ...(deps.owner !== undefined && { owner: deps.owner }), signal });
  try {
    let guest = await engine.workspaces.guest(record.id, signal);
    let commit: string | null = null;
    if (recipe.source !== undefined) commit = await cloneIntoWorkspace(deps, record, guest, recipe.source, recipe.dest, recipe.branch);
    else await guest.mkdir(recipe.dest, { recursive: true }, { signal });
    await runSetup(deps, record, guest, recipe);
    if (network) guest = await leaveEgress(deps, record, network.after, recipe.snapshotMemory === true);
    await recipe.beforeSnapshot?.(guest);
    await snapshotGolden(deps, record, recipe);
    return { workspace: engine.workspaces.get(record.id), snapshot: recipe.snapshot, commit };
  } catch (err) {
    if (!recipe.keepOnFailure) await engine.workspaces.destroy(record.id).catch((cleanup: unknown) => deps.logger.warn("prepare cleanup failed", { workspace: record.id, err: cleanup }));
    throw err;
  }
}

// A memory snapshot only speeds forks up: where this workspace cannot have one (a VM with a
// network device, its disk limit), its forks boot from a disk snapshot instead.
async function snapshotGolden(deps: WorkspaceDeps, record: WorkspaceRecord, recipe: GoldenRecipe): Promise<void> {
  const snapshots = deps.engine.snapshots;
  if (recipe.snapshotMemory === true && snapshots.canIncludeMemory(record.id)) {
    try {
      await snapshots.create(record.id, recipe.snapshot, { includeMemory: true });
      return;
    } catch (err) {
      if (!isAgentisoError(err, "UNSUPPORTED") && !isAgentisoError(err, "QUOTA_EXCEEDED")) throw err;
      deps.logger.warn("golden snapshot without memory: its forks boot cold", { workspace: record.id, err });
    }
  }
  await snapshots.create(record.id, recipe.snapshot);
}

// A runtime that gives egress only at start (a microVM: no network device hot-plug) is created
// in egress when a step will need it, and set to the mode asked for once set up (before the
// snapshot, so forks inherit that). Undefined: created as asked, switched live when needed.
function goldenNetwork(deps: WorkspaceDeps, recipe: GoldenRecipe): { after: NetworkMode } | undefined {
  const { defaults, deps: engineDeps } = deps.engine;
  const after = recipe.create.network ?? defaults.network;
  const needed = (recipe.setupNetwork && recipe.setup.length > 0) || (recipe.source !== undefined && cloneNeedsNetwork(recipe.source));
  const runtime = engineDeps.runtimes[recipe.create.runtime ?? defaults.runtime];
  return needed && after !== "egress" && runtime?.egressChosenAtStart ? { after } : undefined;
}

// Drops the egress a golden was booted with for its setup. A microVM keeps its network device
// until it stops, and a machine with one is not saved with its memory: where the snapshot should
// hold memory, the golden restarts without the device (one boot here instead of one per fork).
async function leaveEgress(deps: WorkspaceDeps, record: WorkspaceRecord, after: NetworkMode, restart: boolean): Promise<GuestClient> {
  const workspaces = deps.engine.workspaces;
  if (restart) await workspaces.stop(record.id);
  await workspaces.setNetwork(record.id, after);
  if (restart) await workspaces.start(record.id);
  return workspaces.guest(record.id, deps.signal);
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
