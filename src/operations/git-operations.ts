// git inside a workspace as operations: clone (a URL, or a host repo copied in as a bundle),
// status (parsed), diff (the patch text), commit, log and checkout. The work is done by src/domain/.
import { AgentisoError } from "../core/errors.js";
import { cloneIntoWorkspace } from "../domain/git-clone.js";
import { gitCheckoutIn, gitCommitIn, gitDiffIn, gitLogIn, gitStatusIn } from "../domain/workspace-git.js";
import { contracts } from "../contract/registry.js";
import { MAX_PATCH_BYTES } from "../contract/git-contracts.js";
import { defineOperation } from "./operation.js";
import { cloneSourceOf } from "./clone-source-args.js";
import { guestFor } from "./guest-for.js";
import { workspaceDepsFor } from "./workspace-deps-for.js";

export const gitClone = defineOperation(contracts.gitClone, {
  run: async (ctx, input) => {
    const { record, guest } = await guestFor(ctx, input.workspace);
    const source = cloneSourceOf(input);
    if (source === undefined || (input.url !== undefined && input.hostPath !== undefined)) throw new AgentisoError("INVALID_INPUT", "give exactly one of url (a git URL) or hostPath (a repository on the host)");
    const commit = await cloneIntoWorkspace(workspaceDepsFor(ctx), record, guest, source, input.dest, input.branch);
    return { workspace: record.name, dest: input.dest, commit };
  },
});

export const gitStatus = defineOperation(contracts.gitStatus, {
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    return gitStatusIn(guest, input.path, ctx.signal);
  },
});

export const gitDiff = defineOperation(contracts.gitDiff, {
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    const against = input.ref ?? "HEAD";
    const diff = await gitDiffIn(guest, input.path, { ref: against, includeUntracked: input.includeUntracked, maxBytes: input.maxBytes ?? MAX_PATCH_BYTES, signal: ctx.signal });
    return { ...diff, against };
  },
});

export const gitCommit = defineOperation(contracts.gitCommit, {
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    const commit = await gitCommitIn(guest, input.path, { message: input.message, all: input.all, author: { name: input.authorName, email: input.authorEmail }, signal: ctx.signal });
    return commit === null ? { committed: false, commit: null } : { committed: true, commit };
  },
});

export const gitLog = defineOperation(contracts.gitLog, {
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    return gitLogIn(guest, input.path, { ref: input.ref ?? "HEAD", maxCount: input.maxCount, ...(input.file !== undefined && { file: input.file }), signal: ctx.signal });
  },
});

export const gitCheckout = defineOperation(contracts.gitCheckout, {
  run: async (ctx, input) => {
    if (input.startPoint !== undefined && !input.create) throw new AgentisoError("INVALID_INPUT", "startPoint goes with create: true (a new branch); to switch, give just ref");
    const { guest } = await guestFor(ctx, input.workspace);
    return gitCheckoutIn(guest, input.path, { ref: input.ref, create: input.create, ...(input.startPoint !== undefined && { startPoint: input.startPoint }), signal: ctx.signal });
  },
});
