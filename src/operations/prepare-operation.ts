// workspace_prepare: the golden-workspace recipe of the orchestrate flow, as one operation.
// Create a workspace from an image, clone a repo (URL or host path), run setup commands in
// order (fail fast, with the command's output), snapshot it as "golden". The orchestrator
// calls prepareGolden() directly; MCP and the control API reach it through the registry.
import { AgentisoError } from "../core/errors.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import { defineOperation, type OperationContext } from "./operation.js";
import { resourceOptions } from "./resource-options.js";
import { cloneIntoWorkspace } from "./git-clone.js";
import { contracts } from "../contract/registry.js";
import type { OutputOf } from "../contract/contract.js";
import type { PrepareInput } from "../contract/prepare-contract.js";

export type PrepareResult = OutputOf<typeof contracts.workspacePrepare>;

const OUTPUT_TAIL_CHARS = 4000;

// Builds a golden workspace and its snapshot; on failure the workspace is destroyed unless keepOnFailure.
export async function prepareGolden(ctx: OperationContext, input: PrepareInput): Promise<PrepareResult> {
  if (input.url !== undefined && input.hostPath !== undefined) throw new AgentisoError("INVALID_INPUT", "give at most one of url or hostPath");
  const workspaces = ctx.services.engine.workspaces;
  const record = await workspaces.create({
    ...(input.name !== undefined && { name: input.name }),
    image: input.image ?? (await defaultImage(ctx)),
    ...(input.runtime !== undefined && { runtime: input.runtime }),
    ...resourceOptions(input),
    ...(ctx.session !== undefined && { owner: ctx.session }),
    signal: ctx.signal,
  });
  try {
    const guest = await workspaces.guest(record.id, ctx.signal);
    let commit: string | null = null;
    if (input.url !== undefined || input.hostPath !== undefined) {
      const source = input.url !== undefined ? { url: input.url } : { hostPath: input.hostPath! };
      commit = await cloneIntoWorkspace(ctx, record, guest, source, input.dest, input.branch);
    } else {
      await guest.mkdir(input.dest, { recursive: true }, { signal: ctx.signal });
    }
    await runSetup(ctx, record, guest, input);
    await ctx.services.engine.snapshots.create(record.id, input.snapshot);
    return { workspace: { id: record.id, name: record.name }, snapshot: input.snapshot, commit };
  } catch (err) {
    if (!input.keepOnFailure) await workspaces.destroy(record.id).catch((cleanup: unknown) => ctx.logger.warn("prepare cleanup failed", { workspace: record.id, err: cleanup }));
    throw err;
  }
}

async function defaultImage(ctx: OperationContext): Promise<string> {
  return (await ctx.services.imageAvailable?.("opencode")) ? "opencode" : "base";
}

async function runSetup(ctx: OperationContext, record: WorkspaceRecord, guest: GuestClient, input: PrepareInput): Promise<void> {
  if (input.setup.length === 0) return;
  const before = ctx.services.engine.workspaces.get(record.id).network;
  if (input.setupNetwork && before !== "egress") await ctx.services.engine.workspaces.setNetwork(record.id, "egress");
  try {
    for (const [index, command] of input.setup.entries()) {
      const result = await guest.exec({ shell: command, cwd: input.dest, commandTimeoutMs: input.setupTimeoutMs }, { signal: ctx.signal });
      if (result.exitCode === 0) continue;
      const how = result.timedOut ? `timed out after ${input.setupTimeoutMs} ms` : `exited with ${String(result.exitCode)}`;
      const output = `${result.stdout}${result.stderr}`.trim().slice(-OUTPUT_TAIL_CHARS);
      throw new AgentisoError("INVALID_STATE", `setup command ${index + 1} (${JSON.stringify(command)}) ${how}: ${output || "(no output)"}`, {
        details: { command, index, exitCode: result.exitCode, timedOut: result.timedOut },
      });
    }
  } finally {
    if (input.setupNetwork && before !== "egress") await ctx.services.engine.workspaces.setNetwork(record.id, before).catch(() => {});
  }
}

export const workspacePrepare = defineOperation(contracts.workspacePrepare, {
  run: prepareGolden,
  creates: (input) => ({ count: 1, ...(input.memory !== undefined && { memoryBytes: input.memory }) }),
});
