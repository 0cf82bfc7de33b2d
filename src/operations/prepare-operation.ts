// workspace_prepare: the golden-workspace recipe of the orchestrate flow, as one operation.
// Create a workspace from an image, clone a repo (URL or host path), run setup commands in
// order (fail fast, with the command's output), snapshot it as "golden". The orchestrator
// calls prepareGolden() directly; MCP and the control API reach it through the registry.
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import { defineOperation, type OperationContext } from "./operation.js";
import { ResourceArgs, SnapshotName, WorkspaceName, resourceOptions } from "./common-schemas.js";
import { CloneSourceArgs, cloneIntoWorkspace } from "./git-clone.js";
import { DEFAULT_REPO_DIR } from "./git-operations.js";

const OUTPUT_TAIL_CHARS = 4000;

export const PrepareInputSchema = z
  .object({
    name: WorkspaceName.optional(),
    image: z.string().min(1).max(64).optional().describe('Image to start from (default "opencode" when that image is available, else "base")'),
    runtime: z.enum(["container", "vm"]).optional().describe("container (runc) or vm (QEMU microVM) for the golden workspace and every fork of it; default from config"),
    ...CloneSourceArgs,
    dest: z.string().min(1).max(4096).default(DEFAULT_REPO_DIR).describe(`Where the repo goes inside the workspace, and where setup commands run (default ${DEFAULT_REPO_DIR})`),
    setup: z.array(z.string().min(1).max(65536)).max(64).default([]).describe('Shell commands run in order in dest, e.g. ["npm ci"]; the first failure stops and reports its output'),
    setupTimeoutMs: z.number().int().min(1000).max(24 * 3600 * 1000).default(1_800_000).describe("Deadline for each setup command (default 30 minutes)"),
    setupNetwork: z.boolean().default(false).describe("Give setup commands outbound network (egress), e.g. to install dependencies"),
    snapshot: SnapshotName.default("golden").describe('Name of the snapshot taken at the end (default "golden")'),
    keepOnFailure: z.boolean().default(false).describe("Keep the workspace when a step fails (to debug it); by default it is destroyed"),
    ...ResourceArgs,
  })
  .strict();

export type PrepareInput = z.output<typeof PrepareInputSchema>;

export interface PrepareResult {
  workspace: { id: string; name: string };
  snapshot: string;
  /** HEAD of the cloned repo; null when no repo was given. */
  commit: string | null;
}

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

export const workspacePrepare = defineOperation({
  name: "workspace_prepare",
  description:
    'Prepare a golden workspace in one call: create it from an image, clone a repo (url, or hostPath on the host), run setup commands, and snapshot it (default "golden") so workspace_batch_fork can fan out workers. Returns {workspace, snapshot, commit}.',
  category: "create",
  input: PrepareInputSchema,
  run: prepareGolden,
  creates: (input) => ({ count: 1, ...(input.memory !== undefined && { memoryBytes: input.memory }) }),
});
