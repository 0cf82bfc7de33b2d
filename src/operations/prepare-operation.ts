// workspace_prepare: the golden-workspace recipe of the orchestrate flow, as one operation.
// Create a workspace from an image, clone a repo (URL or host path), run setup commands in
// order (fail fast, with the command's output), snapshot it as "golden". The work is
// src/domain/prepare-golden.ts, which the orchestrator calls too.
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import { prepareGolden } from "../domain/prepare-golden.js";
import { defineOperation, type OperationContext } from "./operation.js";
import { ResourceArgs, SnapshotName, WorkspaceName, resourceOptions } from "./common-schemas.js";
import { CloneSourceArgs, cloneSourceOf } from "./clone-source-args.js";
import { DEFAULT_REPO_DIR } from "./git-operations.js";
import { workspaceDepsFor } from "./workspace-deps-for.js";

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

// Builds a golden workspace and its snapshot (src/domain/prepare-golden.ts) for the caller.
async function prepare(ctx: OperationContext, input: PrepareInput): Promise<PrepareResult> {
  if (input.url !== undefined && input.hostPath !== undefined) throw new AgentisoError("INVALID_INPUT", "give at most one of url or hostPath");
  const source = cloneSourceOf(input);
  const prepared = await prepareGolden(workspaceDepsFor(ctx), {
    create: {
      ...(input.name !== undefined && { name: input.name }),
      image: input.image ?? (await defaultImage(ctx)),
      ...(input.runtime !== undefined && { runtime: input.runtime }),
      ...resourceOptions(input),
    },
    ...(source !== undefined && { source }),
    ...(input.branch !== undefined && { branch: input.branch }),
    dest: input.dest,
    setup: input.setup,
    setupTimeoutMs: input.setupTimeoutMs,
    setupNetwork: input.setupNetwork,
    snapshot: input.snapshot,
    keepOnFailure: input.keepOnFailure,
  });
  return { workspace: { id: prepared.workspace.id, name: prepared.workspace.name }, snapshot: prepared.snapshot, commit: prepared.commit };
}

async function defaultImage(ctx: OperationContext): Promise<string> {
  return (await ctx.services.imageAvailable?.("opencode")) ? "opencode" : "base";
}

export const workspacePrepare = defineOperation({
  name: "workspace_prepare",
  description:
    'Prepare a golden workspace in one call: create it from an image, clone a repo (url, or hostPath on the host), run setup commands, and snapshot it (default "golden") so workspace_batch_fork can fan out workers. Returns {workspace, snapshot, commit}.',
  category: "create",
  input: PrepareInputSchema,
  run: prepare,
  creates: (input) => ({ count: 1, ...(input.memory !== undefined && { memoryBytes: input.memory }) }),
});
