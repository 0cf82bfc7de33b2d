// Pause, resume and lifecycle limits of an existing workspace (engine/lifecycle-service.ts).
import { defineOperation, workspaceFor } from "./operation.js";
import { recordView } from "./session-view.js";
import { contracts } from "../contract/registry.js";
import { lifecycleChange } from "./lifecycle-options.js";

export const workspacePause = defineOperation(contracts.workspacePause, {
  run: async (ctx, input) => recordView(ctx, await ctx.services.engine.lifecycle.pause(workspaceFor(ctx, input.workspace).id)),
});

export const workspaceResume = defineOperation(contracts.workspaceResume, {
  run: async (ctx, input) => recordView(ctx, await ctx.services.engine.lifecycle.resume(workspaceFor(ctx, input.workspace).id)),
});

export const workspaceLifecycle = defineOperation(contracts.workspaceLifecycle, {
  run: async (ctx, input) => {
    const change = lifecycleChange(input);
    const record = workspaceFor(ctx, input.workspace, { look: change === undefined });
    return recordView(ctx, change === undefined ? record : ctx.services.engine.lifecycle.setLimits(record.id, change));
  },
});
