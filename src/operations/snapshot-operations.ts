// Snapshot and fork operations: the golden-snapshot pattern.
import type { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import { defineOperation, workspaceFor, type WorkspaceDemand } from "./operation.js";
import { hidingForeignForks, recordView, snapshotsView } from "./session-view.js";
import { contracts } from "../contract/registry.js";
import { ForkInput } from "../contract/snapshot-contracts.js";
import { resourceDemand, resourceOptions } from "./resource-options.js";
import { lifecycleLimits } from "./lifecycle-options.js";

export const snapshot = defineOperation(contracts.snapshot, {
  run: async (ctx, input) => {
    const record = workspaceFor(ctx, input.workspace);
    const snapshots = ctx.services.engine.snapshots;
    if (input.action === "list") return snapshotsView(ctx, snapshots.list(record.id));
    if (input.name === undefined) throw new AgentisoError("INVALID_INPUT", `snapshot ${input.action} needs a name`);
    if (input.includeMemory !== undefined && input.action !== "create") throw new AgentisoError("INVALID_INPUT", `includeMemory belongs to snapshot create, not ${input.action}`);
    switch (input.action) {
      case "create":
        return snapshots.create(record.id, input.name, { includeMemory: input.includeMemory === true });
      case "restore":
        return recordView(ctx, await snapshots.restore(record.id, input.name));
      case "delete":
        await hidingForeignForks(ctx, `snapshot ${input.name} of ${record.name}`, () => snapshots.delete(record.id, input.name!));
        return { deleted: input.name, workspace: record.name };
    }
  },
});

export const workspaceFork = defineOperation(contracts.workspaceFork, {
  run: (ctx, input) => {
    const origin = workspaceFor(ctx, input.workspace);
    return ctx.services.engine.snapshots.fork(origin.id, {
      snapshot: input.snapshot,
      ...(input.count !== undefined && { count: input.count }),
      ...(input.name !== undefined && { name: input.name }),
      ...(input.namePrefix !== undefined && { namePrefix: input.namePrefix }),
      ...resourceOptions(input, ctx),
      ...(ctx.session !== undefined && { owner: ctx.session }),
      lifecycle: lifecycleLimits(ctx, input),
      signal: ctx.signal,
    });
  },
  creates: forkDemand,
});

export const workspaceBatchFork = defineOperation(contracts.workspaceBatchFork, {
  run: async (ctx, input) => {
    const forks = await workspaceFork.run(ctx, input);
    return { workers: forks.map((w) => ({ id: w.id, name: w.name })) };
  },
  creates: forkDemand,
});

function forkDemand(input: z.output<typeof ForkInput>): WorkspaceDemand {
  return resourceDemand(input, input.count ?? 1, input.workspace);
}
