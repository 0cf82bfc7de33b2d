// The golden workspace: created once from an image, the repository cloned into /workspace,
// dependencies installed by the setup commands, then snapshotted (prepare-golden.ts). Workers
// fork from that snapshot copy-on-write, so they all start from the same warm state in O(1).
// This module reuses an existing one.
import { AgentisoError } from "../core/errors.js";
import type { Engine } from "../engine/engine.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import { runChecked } from "../guest/run-checked.js";

export const GOLDEN_REPO_DIR = "/workspace";

export interface GoldenWorkspace {
  workspace: WorkspaceRecord;
  snapshot: string;
  /** The commit HEAD points at in /workspace: patches are diffs against it. */
  commit: string;
  repoDir: string;
}

// An existing golden (plan golden.workspace): its snapshot must exist; HEAD of its repo is the
// commit. Takes the record, not a name: the caller looks it up with its owner check.
export async function reuseGolden(engine: Engine<GuestClient>, record: WorkspaceRecord, snapshot: string, signal?: AbortSignal): Promise<GoldenWorkspace> {
  if (!engine.snapshots.list(record.id).some((s) => s.name === snapshot)) {
    throw new AgentisoError("NOT_FOUND", `workspace ${record.name} has no snapshot ${snapshot}: prepare it first (workspace_prepare)`);
  }
  if (record.state !== "running") await engine.workspaces.start(record.id);
  const guest = await engine.workspaces.guest(record.id, signal);
  const head = await runChecked(guest, { shell: "git rev-parse HEAD" }, { what: "git rev-parse", cwd: GOLDEN_REPO_DIR, ...(signal && { signal }) });
  return { workspace: engine.workspaces.get(record.id), snapshot, commit: head.stdout.trim(), repoDir: GOLDEN_REPO_DIR };
}
