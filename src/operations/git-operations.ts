// git inside a workspace, run through the guest agent: clone (a URL, or a host repo copied in
// as a bundle), status (parsed), diff (the patch text) and commit. The repo belongs to the
// workspace's root, so git's "dubious ownership" check never triggers.
import { AgentisoError } from "../core/errors.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import { gitIn } from "./git-exec.js";
import { defineOperation, workspaceFor, type OperationContext } from "./operation.js";
import { parseGitPorcelain } from "./git-porcelain.js";
import { cloneIntoWorkspace, type CloneSource } from "./git-clone.js";
import { contracts } from "../contract/registry.js";
import { MAX_PATCH_BYTES } from "../contract/git-contracts.js";

async function repoOf(ctx: OperationContext, ref: string): Promise<{ record: WorkspaceRecord; guest: GuestClient }> {
  const record = workspaceFor(ctx, ref);
  return { record, guest: await ctx.services.engine.workspaces.guest(record.id, ctx.signal) };
}

export const gitClone = defineOperation(contracts.gitClone, {
  run: async (ctx, input) => {
    const { record, guest } = await repoOf(ctx, input.workspace);
    const source: CloneSource = input.url !== undefined ? { url: input.url } : { hostPath: input.hostPath ?? "" };
    if ((input.url === undefined) === (input.hostPath === undefined)) throw new AgentisoError("INVALID_INPUT", "give exactly one of url (a git URL) or hostPath (a repository on the host)");
    const commit = await cloneIntoWorkspace(ctx, record, guest, source, input.dest, input.branch);
    return { workspace: record.name, dest: input.dest, commit };
  },
});

export const gitStatus = defineOperation(contracts.gitStatus, {
  run: async (ctx, input) => {
    const { guest } = await repoOf(ctx, input.workspace);
    const run = await gitIn(ctx, guest, input.path, ["status", "--porcelain=v1", "--branch", "-z", "--untracked-files=all"]);
    return parseGitPorcelain(run.stdout);
  },
});

export const gitDiff = defineOperation(contracts.gitDiff, {
  run: async (ctx, input) => {
    const { guest } = await repoOf(ctx, input.workspace);
    if (input.includeUntracked) await gitIn(ctx, guest, input.path, ["add", "--intent-to-add", "--all"]);
    const run = await gitIn(ctx, guest, input.path, ["diff", "--no-color", "--no-ext-diff", input.ref ?? "HEAD", "--"], { maxOutputBytes: input.maxBytes ?? MAX_PATCH_BYTES });
    return { patch: run.stdout, truncated: run.truncated, against: input.ref ?? "HEAD" };
  },
});

export const gitCommit = defineOperation(contracts.gitCommit, {
  run: async (ctx, input) => {
    const { guest } = await repoOf(ctx, input.workspace);
    if (input.all) await gitIn(ctx, guest, input.path, ["add", "--all"]);
    const staged = await gitIn(ctx, guest, input.path, ["diff", "--cached", "--quiet"], { allowFailure: true });
    if (staged.exitCode === 0) return { committed: false, commit: null };
    const who = ["-c", `user.name=${input.authorName}`, "-c", `user.email=${input.authorEmail}`];
    await gitIn(ctx, guest, input.path, [...who, "commit", "--quiet", "--no-verify", "-m", input.message]);
    const head = await gitIn(ctx, guest, input.path, ["rev-parse", "HEAD"]);
    return { committed: true, commit: head.stdout.trim() };
  },
});
