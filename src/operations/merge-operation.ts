// workspace_merge as an operation: every workspace it names — the target and each source — goes
// through the owner check before anything runs, so a session can merge only its own; the work
// is src/domain/merge-workspaces.ts, inside the workspaces.
import { AgentisoError } from "../core/errors.js";
import { CAP_DEFAULTS } from "../config/config.js";
import { mergeWorkspaces } from "../domain/merge-workspaces.js";
import { contracts } from "../contract/registry.js";
import { defineOperation, workspaceFor } from "./operation.js";

export const workspaceMerge = defineOperation(contracts.workspaceMerge, {
  run: async (ctx, input) => {
    const target = workspaceFor(ctx, input.target);
    const sources = input.sources.map((ref) => workspaceFor(ctx, ref));
    const ids = new Set(sources.map((s) => s.id));
    if (ids.has(target.id)) throw new AgentisoError("INVALID_INPUT", `workspace ${target.name} is the target: it cannot also be a source`);
    if (ids.size !== sources.length) throw new AgentisoError("INVALID_INPUT", "a source is named twice: name each once");
    const guestOf = async (record: { id: string; name: string }) => ({ name: record.name, guest: await ctx.services.engine.workspaces.guest(record.id, ctx.signal) });
    const parties = [];
    for (const source of sources) parties.push(await guestOf(source));
    return mergeWorkspaces(await guestOf(target), parties, {
      repoDir: input.path,
      strategy: input.strategy,
      ...(input.commitMessage !== undefined && { commitMessage: input.commitMessage }),
      ...(input.base !== undefined && { base: input.base }),
      maxPatchBytes: (ctx.services.caps ?? CAP_DEFAULTS).patchBytes,
      signal: ctx.signal,
    });
  },
});
