// The golden workspace: created once from an image, the repository cloned into /workspace,
// dependencies installed by the setup commands, then snapshotted. Workers fork from that
// snapshot copy-on-write, so they all start from the same warm state in O(1).
import { mkdtemp, rm, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import { runCommand } from "../core/run-command.js";
import type { Engine } from "../engine/engine.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import { shell, shellQuote } from "./guest-shell.js";

export const GOLDEN_REPO_DIR = "/workspace";
const SETUP_TIMEOUT_MS = 30 * 60_000;

export interface PrepareGoldenInput {
  image: string;
  /** git URL (cloned inside, needs egress) or an absolute host path of a git repository. */
  repo: string;
  repoIsHostPath: boolean;
  setup: string[];
  name?: string;
  snapshot: string;
  /** Network while cloning and running setup; the golden workspace returns to `none` after. */
  network: "none" | "egress";
  memoryMiB?: number;
  owner?: string;
  signal?: AbortSignal;
  onStep?: (step: string) => void;
}

export interface GoldenWorkspace {
  workspace: WorkspaceRecord;
  snapshot: string;
  /** The commit HEAD points at in /workspace: patches are diffs against it. */
  commit: string;
  repoDir: string;
}

// Builds the golden workspace; on failure it is destroyed again.
export async function prepareGolden(engine: Engine<GuestClient>, input: PrepareGoldenInput): Promise<GoldenWorkspace> {
  const step = input.onStep ?? (() => {});
  step(`creating golden workspace from image ${input.image}`);
  const workspace = await engine.workspaces.create({
    image: input.image,
    network: input.network,
    ...(input.name !== undefined && { name: input.name }),
    ...(input.memoryMiB !== undefined && { memoryMiB: input.memoryMiB }),
    ...(input.owner !== undefined && { owner: input.owner }),
    ...(input.signal && { signal: input.signal }),
  });
  try {
    const guest = await engine.workspaces.guest(workspace.id, input.signal);
    step(`cloning ${input.repo}`);
    if (input.repoIsHostPath) await cloneHostRepo(guest, input.repo, input.signal);
    else await shell(guest, `git clone --quiet ${shellQuote(input.repo)} ${GOLDEN_REPO_DIR}`, "git clone", { timeoutMs: SETUP_TIMEOUT_MS, ...signalOf(input) });
    await shell(guest, "git config user.email agentiso@localhost && git config user.name agentiso", "git config", { cwd: GOLDEN_REPO_DIR, ...signalOf(input) });
    for (const command of input.setup) {
      step(`setup: ${command}`);
      await shell(guest, command, `setup command ${JSON.stringify(command)}`, { cwd: GOLDEN_REPO_DIR, timeoutMs: SETUP_TIMEOUT_MS, ...signalOf(input) });
    }
    const commit = (await shell(guest, "git rev-parse HEAD", "git rev-parse", { cwd: GOLDEN_REPO_DIR, ...signalOf(input) })).trim();
    if (input.network !== "none") await engine.workspaces.setNetwork(workspace.id, "none");
    step(`snapshot ${input.snapshot}`);
    await engine.snapshots.create(workspace.id, input.snapshot);
    return { workspace: engine.workspaces.get(workspace.id), snapshot: input.snapshot, commit, repoDir: GOLDEN_REPO_DIR };
  } catch (err) {
    await engine.workspaces.destroy(workspace.id).catch(() => {});
    throw err;
  }
}

// An existing golden: its snapshot must exist; the commit is read from the repo in a fork-free way.
export async function reuseGolden(engine: Engine<GuestClient>, workspace: string, snapshot: string, signal?: AbortSignal): Promise<GoldenWorkspace> {
  const record = engine.workspaces.get(workspace);
  if (!engine.snapshots.list(record.id).some((s) => s.name === snapshot)) {
    throw new AgentisoError("NOT_FOUND", `workspace ${record.name} has no snapshot ${snapshot}: prepare it first (workspace_prepare)`);
  }
  if (record.state !== "running") await engine.workspaces.start(record.id);
  const guest = await engine.workspaces.guest(record.id, signal);
  const commit = (await shell(guest, "git rev-parse HEAD", "git rev-parse", { cwd: GOLDEN_REPO_DIR, ...(signal && { signal }) })).trim();
  return { workspace: engine.workspaces.get(record.id), snapshot, commit, repoDir: GOLDEN_REPO_DIR };
}

// Host repo → `git bundle` (committed history only) → upload → `git clone` inside.
async function cloneHostRepo(guest: GuestClient, hostPath: string, signal?: AbortSignal): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), "agentiso-bundle-"));
  try {
    const bundle = join(scratch, "repo.bundle");
    await runCommand(["git", "-C", hostPath, "rev-parse", "--verify", "HEAD"], { ...(signal && { signal }) }).catch((err: unknown) => {
      throw new AgentisoError("INVALID_INPUT", `${hostPath} is not a git repository with a commit: ${(err as Error).message}`);
    });
    await runCommand(["git", "-C", hostPath, "bundle", "create", bundle, "HEAD", "--branches", "--tags"], { ...(signal && { signal }) });
    await guest.upload("/tmp/agentiso-repo.bundle", await readFile(bundle), {}, signal ? { signal } : {});
    await shell(guest, `git clone --quiet /tmp/agentiso-repo.bundle ${GOLDEN_REPO_DIR} && rm -f /tmp/agentiso-repo.bundle`, "git clone of the host repository", signal ? { signal } : {});
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function signalOf(input: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return input.signal ? { signal: input.signal } : {};
}
