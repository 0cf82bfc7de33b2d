// Workspace lifecycle operations: create, start, stop, destroy, list, info, logs, network, adopt.
import { z } from "zod";
import { AgentisoError, isAgentisoError } from "../core/errors.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import { defineOperation, workspaceFor } from "./operation.js";
import { hidingForeignForks, recordView, snapshotsView } from "./session-view.js";
import { NetworkModeSchema, ResourceArgs, WorkspaceName, WorkspaceRef, resourceOptions } from "./common-schemas.js";

const Ref = z.object({ workspace: WorkspaceRef }).strict();

export const workspaceCreate = defineOperation({
  name: "workspace_create",
  description: "Create an isolated Linux workspace from an image and start it. Returns the workspace (id, name, state).",
  category: "create",
  input: z
    .object({
      name: WorkspaceName.optional(),
      image: z.string().min(1).max(64).optional().describe('Image to start from, e.g. "base", "node", "python", "rust", "opencode"'),
      runtime: z.enum(["container", "vm"]).optional().describe("container (runc) or vm (QEMU microVM); default from config"),
      ...ResourceArgs,
    })
    .strict(),
  run: (ctx, input) =>
    ctx.services.engine.workspaces.create({
      ...(input.name !== undefined && { name: input.name }),
      ...(input.image !== undefined && { image: input.image }),
      ...(input.runtime !== undefined && { runtime: input.runtime }),
      ...resourceOptions(input),
      ...(ctx.session !== undefined && { owner: ctx.session }),
      signal: ctx.signal,
    }),
});

export const workspaceStart = defineOperation({
  name: "workspace_start",
  description: "Start a stopped workspace.",
  category: "other",
  input: Ref,
  run: async (ctx, input) => recordView(ctx, await ctx.services.engine.workspaces.start(workspaceFor(ctx, input.workspace).id)),
});

export const workspaceStop = defineOperation({
  name: "workspace_stop",
  description: "Stop a running workspace (its files are kept; start it again later).",
  category: "other",
  input: Ref,
  run: async (ctx, input) => recordView(ctx, await ctx.services.engine.workspaces.stop(workspaceFor(ctx, input.workspace).id)),
});

export const workspaceDestroy = defineOperation({
  name: "workspace_destroy",
  description: "Destroy a workspace and its files and snapshots. Refused while forks of its snapshots exist.",
  category: "other",
  input: Ref,
  run: async (ctx, input) => {
    const record = workspaceFor(ctx, input.workspace);
    await hidingForeignForks(ctx, `workspace ${record.name}`, () => ctx.services.engine.workspaces.destroy(record.id));
    return { destroyed: record.name, id: record.id };
  },
});

export const workspaceList = defineOperation({
  name: "workspace_list",
  description: "List workspaces (in an MCP session: the ones this session owns).",
  category: "other",
  input: z.object({ state: z.enum(["running", "stopped", "failed"]).optional().describe("Only workspaces in this state") }).strict(),
  run: async (ctx, input) =>
    ctx.services.engine.workspaces
      .list({
        ...(ctx.session !== undefined && { owner: ctx.session }),
        ...(input.state !== undefined && { states: [input.state] }),
      })
      .map((record) => recordView(ctx, record)),
});

export const workspacePool = defineOperation({
  name: "workspace_pool",
  description: "The warm pool: how many booted workspaces wait to be handed out by workspace_create (config vm.warmPool).",
  category: "other",
  input: z.object({}).strict(),
  run: async (ctx) => {
    const pool = ctx.services.engine.workspaces.warmPool;
    return { size: pool?.size ?? 0, ready: pool?.ready().length ?? 0, runtime: pool?.runtime ?? null };
  },
});

export const workspaceInfo = defineOperation({
  name: "workspace_info",
  description: "Show one workspace: state, image, resources, lineage, snapshots.",
  category: "other",
  input: Ref,
  run: async (ctx, input) => {
    const record = workspaceFor(ctx, input.workspace);
    return { ...recordView(ctx, record), snapshots: snapshotsView(ctx, ctx.services.engine.snapshots.list(record.id)) };
  },
});

export const workspaceLogs = defineOperation({
  name: "workspace_logs",
  description: "The workspace's console and agent log (tail).",
  category: "other",
  input: z.object({ workspace: WorkspaceRef, maxBytes: z.number().int().min(1).max(4 * 1024 * 1024).optional().describe("How much of the end to return (default 64 KiB)") }).strict(),
  run: async (ctx, input) => ({ log: await ctx.services.engine.workspaces.logs(workspaceFor(ctx, input.workspace).id, { maxBytes: input.maxBytes ?? 65536 }) }),
});

export const workspaceNetwork = defineOperation({
  name: "workspace_network",
  description: "Switch a workspace's network: none (loopback only) or egress (outbound internet; the host stays unreachable).",
  category: "other",
  input: z.object({ workspace: WorkspaceRef, mode: NetworkModeSchema }).strict(),
  run: async (ctx, input) => recordView(ctx, await ctx.services.engine.workspaces.setNetwork(workspaceFor(ctx, input.workspace).id, input.mode)),
});

export const workspaceAdopt = defineOperation({
  name: "workspace_adopt",
  description: "Take ownership of a workspace no session owns (e.g. created from the CLI, or left by a session that ended).",
  category: "other",
  input: Ref,
  run: async (ctx, input) => {
    if (ctx.session === undefined) throw new AgentisoError("INVALID_INPUT", "workspace_adopt needs an MCP session");
    let record: WorkspaceRecord | undefined;
    try {
      record = ctx.services.engine.workspaces.get(input.workspace);
    } catch (err) {
      if (!isAgentisoError(err, "NOT_FOUND")) throw err;
    }
    // Another session's workspace answers exactly like a missing one: its name is not told.
    if (record === undefined || (record.owner !== undefined && record.owner !== ctx.session)) {
      throw new AgentisoError("NOT_FOUND", `no workspace ${JSON.stringify(input.workspace)} to adopt (workspace_adopt takes over workspaces no session owns)`);
    }
    return recordView(ctx, await ctx.services.engine.workspaces.setOwner(record.id, ctx.session));
  },
});
