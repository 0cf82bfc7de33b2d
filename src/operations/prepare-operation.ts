// workspace_prepare: the golden-workspace recipe of the orchestrate flow, as one operation.
// Create a workspace from an image, clone a repo (URL or host path), run setup commands in
// order (fail fast, with the command's output), snapshot it as "golden". The work is
// src/domain/prepare-golden.ts, which the orchestrator calls too.
import { AgentisoError } from "../core/errors.js";
import { prepareGolden } from "../domain/prepare-golden.js";
import { defineOperation, type OperationContext } from "./operation.js";
import { resourceDemand, resourceOptions } from "./resource-options.js";
import { lifecycleLimits } from "./lifecycle-options.js";
import { cloneSourceOf } from "./clone-source-args.js";
import { contracts } from "../contract/registry.js";
import type { OutputOf } from "../contract/contract.js";
import type { PrepareInput } from "../contract/prepare-contract.js";
import { workspaceDepsFor } from "./workspace-deps-for.js";

export type PrepareResult = OutputOf<typeof contracts.workspacePrepare>;

// Builds a golden workspace and its snapshot (src/domain/prepare-golden.ts) for the caller.
async function prepare(ctx: OperationContext, input: PrepareInput): Promise<PrepareResult> {
  if (input.url !== undefined && input.hostPath !== undefined) throw new AgentisoError("INVALID_INPUT", "give at most one of url or hostPath");
  const source = cloneSourceOf(input);
  const prepared = await prepareGolden(workspaceDepsFor(ctx), {
    create: {
      ...(input.name !== undefined && { name: input.name }),
      image: input.image ?? (await defaultImage(ctx)),
      ...(input.runtime !== undefined && { runtime: input.runtime }),
      ...resourceOptions(input, ctx),
      lifecycle: lifecycleLimits(ctx, input),
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

export const workspacePrepare = defineOperation(contracts.workspacePrepare, {
  run: prepare,
  creates: (input) => resourceDemand(input),
});
