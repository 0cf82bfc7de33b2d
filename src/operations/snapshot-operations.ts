// Snapshot and fork operations: the golden-snapshot pattern.
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import { MAX_FORK_COUNT } from "../engine/snapshot-service.js";
import { defineOperation, workspaceFor } from "./operation.js";
import { hidingForeignForks, recordView, snapshotsView } from "./session-view.js";
import { SnapshotName, WorkspaceName, WorkspaceRef, ResourceArgs, resourceOptions } from "./common-schemas.js";

export const snapshot = defineOperation({
  name: "snapshot",
  description: "Manage a workspace's snapshots: create, restore (roll back), list or delete.",
  category: "other",
  input: z
    .object({
      workspace: WorkspaceRef,
      action: z.enum(["create", "restore", "list", "delete"]).describe("What to do"),
      name: SnapshotName.optional().describe("Snapshot name (required except for list)"),
    })
    .strict(),
  run: async (ctx, input) => {
    const record = workspaceFor(ctx, input.workspace);
    const snapshots = ctx.services.engine.snapshots;
    if (input.action === "list") return snapshotsView(ctx, snapshots.list(record.id));
    if (input.name === undefined) throw new AgentisoError("INVALID_INPUT", `snapshot ${input.action} needs a name`);
    switch (input.action) {
      case "create":
        return snapshots.create(record.id, input.name);
      case "restore":
        return recordView(ctx, await snapshots.restore(record.id, input.name));
      case "delete":
        await hidingForeignForks(ctx, `snapshot ${input.name} of ${record.name}`, () => snapshots.delete(record.id, input.name!));
        return { deleted: input.name, workspace: record.name };
    }
  },
});

const ForkInput = z
  .object({
    workspace: WorkspaceRef.describe("Workspace to fork from"),
    snapshot: SnapshotName.describe("Snapshot of that workspace to fork"),
    count: z.number().int().min(1).max(MAX_FORK_COUNT).optional().describe("How many forks (default 1), created in parallel"),
    name: WorkspaceName.optional().describe("Name of the fork (count 1) or prefix (count > 1)"),
    namePrefix: WorkspaceName.optional().describe("Forks are named PREFIX-1, PREFIX-2, ..."),
    ...ResourceArgs,
  })
  .strict();

export const workspaceFork = defineOperation({
  name: "workspace_fork",
  description: "Fork new workspaces from a snapshot (copy-on-write: instant whatever the size). Returns the new workspaces.",
  category: "create",
  input: ForkInput,
  run: (ctx, input) => {
    const origin = workspaceFor(ctx, input.workspace);
    return ctx.services.engine.snapshots.fork(origin.id, {
      snapshot: input.snapshot,
      ...(input.count !== undefined && { count: input.count }),
      ...(input.name !== undefined && { name: input.name }),
      ...(input.namePrefix !== undefined && { namePrefix: input.namePrefix }),
      ...resourceOptions(input),
      ...(ctx.session !== undefined && { owner: ctx.session }),
      signal: ctx.signal,
    });
  },
});

export const workspaceBatchFork = defineOperation({
  name: "workspace_batch_fork",
  description: "Fork N worker workspaces from a snapshot in parallel and return their ids (for fan-out of parallel tasks).",
  category: "create",
  input: ForkInput.extend({ count: z.number().int().min(1).max(MAX_FORK_COUNT).describe("How many workers") }),
  run: async (ctx, input) => {
    const forks = await workspaceFork.run(ctx, input);
    return { workers: forks.map((w) => ({ id: w.id, name: w.name })) };
  },
});
