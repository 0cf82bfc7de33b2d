// Workspace lifecycle operations: create, start, stop, destroy, list, info, logs, network, adopt.
import { AgentisoError } from "../core/errors.js";
import { defineOperation, workspaceFor, type OperationContext } from "./operation.js";
import { followFile } from "../core/follow-file.js";
import { readTail } from "../core/read-tail.js";
import { outputEvent } from "../contract/output-event.js";
import { hidingForeignForks, recordView, snapshotsView } from "./session-view.js";
import { mayAdopt, notInSession } from "./session-scope.js";
import { contracts } from "../contract/registry.js";
import { resourceDemand, resourceOptions } from "./resource-options.js";
import { lifecycleLimits } from "./lifecycle-options.js";

export const workspaceCreate = defineOperation(contracts.workspaceCreate, {
  run: (ctx, input) =>
    ctx.services.engine.workspaces.create({
      ...(input.name !== undefined && { name: input.name }),
      ...(input.image !== undefined && { image: input.image }),
      ...(input.runtime !== undefined && { runtime: input.runtime }),
      ...resourceOptions(input, ctx),
      ...(ctx.session !== undefined && { owner: ctx.session }),
      lifecycle: lifecycleLimits(ctx, input),
      signal: ctx.signal,
    }),
  creates: (input) => resourceDemand(input),
});

export const workspaceStart = defineOperation(contracts.workspaceStart, {
  run: async (ctx, input) => recordView(ctx, await ctx.services.engine.workspaces.start(workspaceFor(ctx, input.workspace).id)),
});

export const workspaceStop = defineOperation(contracts.workspaceStop, {
  run: async (ctx, input) => recordView(ctx, await ctx.services.engine.workspaces.stop(workspaceFor(ctx, input.workspace).id)),
});

export const workspaceDestroy = defineOperation(contracts.workspaceDestroy, {
  run: async (ctx, input) => {
    const record = workspaceFor(ctx, input.workspace);
    await hidingForeignForks(ctx, `workspace ${record.name}`, () => ctx.services.engine.workspaces.destroy(record.id));
    return { destroyed: record.name, id: record.id };
  },
});

export const workspaceList = defineOperation(contracts.workspaceList, {
  run: async (ctx, input) =>
    ctx.services.engine.workspaces
      .list({
        ...(ctx.session !== undefined && { owner: ctx.session }),
        ...(input.state !== undefined && { states: [input.state] }),
      })
      .map((record) => recordView(ctx, record)),
});

export const workspacePool = defineOperation(contracts.workspacePool, {
  run: async (ctx) => {
    const pools = ctx.services.engine.pool?.stats() ?? [];
    const runtimes = new Set(pools.map((p) => p.runtime));
    const sum = (field: "size" | "ready") => pools.reduce((total, p) => total + p[field], 0);
    return { size: sum("size"), ready: sum("ready"), runtime: runtimes.size === 1 ? [...runtimes][0]! : null, pools };
  },
});

export const workspaceInfo = defineOperation(contracts.workspaceInfo, {
  run: async (ctx, input) => {
    const record = workspaceFor(ctx, input.workspace, { look: true });
    const { snapshots, ports } = ctx.services.engine;
    return { ...recordView(ctx, record), snapshots: snapshotsView(ctx, snapshots.list(record.id)), ports: ports.list(record.id) };
  },
});

export const workspaceLogs = defineOperation(contracts.workspaceLogs, {
  run: async (ctx, input) => {
    const { workspaces } = ctx.services.engine;
    const record = workspaceFor(ctx, input.workspace, { look: true });
    // the host file of its console and agent log, which the runtime rotates in place
    const file = await workspaces.runtimeOf(record).logFile(record.id);
    const log = await readTail(file, input.maxBytes ?? 65536);
    if (input.followMs !== undefined) {
      // the tail goes first as progress too: a follower prints the stream alone, in order
      await ctx.progress?.(outputEvent("log", Buffer.from(log)));
      await followLog(ctx, file, input.followMs);
    }
    return { log };
  },
});

// Streams what is written to the log for followMs (the tail before it is the result's log).
async function followLog(ctx: OperationContext, path: string, followMs: number): Promise<void> {
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(followMs)]);
  await followFile(path, (bytes) => ctx.progress?.(outputEvent("log", bytes)), { signal });
  if (ctx.signal.aborted) throw new AgentisoError("CANCELLED", "workspace_logs was cancelled");
}

export const workspaceNetwork = defineOperation(contracts.workspaceNetwork, {
  run: async (ctx, input) => recordView(ctx, await ctx.services.engine.workspaces.setNetwork(workspaceFor(ctx, input.workspace).id, input.mode)),
});

export const workspaceAdopt = defineOperation(contracts.workspaceAdopt, {
  run: async (ctx, input) => {
    if (ctx.session === undefined) throw new AgentisoError("INVALID_INPUT", "workspace_adopt needs an MCP session");
    const record = ctx.services.engine.workspaces.list().find((w) => w.id === input.workspace || w.name === input.workspace);
    if (!record || !mayAdopt(ctx.session, record.owner)) throw notInSession(input.workspace);
    return recordView(ctx, await ctx.services.engine.workspaces.setOwner(record.id, ctx.session));
  },
});
