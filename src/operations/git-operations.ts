// git inside a workspace as operations: clone (a URL, or a host repo copied in as a bundle),
// status (parsed), diff (the patch text) and commit. The work is done by src/domain/.
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import { MAX_EXEC_INLINE_BYTES } from "../protocol/version.js";
import { cloneIntoWorkspace } from "../domain/git-clone.js";
import { gitCommitIn, gitDiffIn, gitStatusIn } from "../domain/workspace-git.js";
import { defineOperation } from "./operation.js";
import { WorkspaceRef } from "./common-schemas.js";
import { CloneSourceArgs, cloneSourceOf } from "./clone-source-args.js";
import { guestFor } from "./guest-for.js";
import { workspaceDepsFor } from "./workspace-deps-for.js";

export const DEFAULT_REPO_DIR = "/workspace";
const MAX_PATCH_BYTES = MAX_EXEC_INLINE_BYTES;
const RepoDir = z.string().min(1).max(4096).default(DEFAULT_REPO_DIR).describe(`Repository directory inside the workspace (default ${DEFAULT_REPO_DIR})`);

export const gitClone = defineOperation({
  name: "git_clone",
  description:
    "Clone a repository into a workspace: a git URL (the workspace gets outbound network just for the clone) or a host repository path (copied in as a git bundle; in an MCP session it must lie inside the host transfer directory). Returns the checked-out commit.",
  category: "other",
  input: z.object({ workspace: WorkspaceRef, ...CloneSourceArgs, dest: RepoDir.describe(`Directory to clone into (default ${DEFAULT_REPO_DIR}); must not exist or be empty`) }).strict(),
  run: async (ctx, input) => {
    const { record, guest } = await guestFor(ctx, input.workspace);
    const source = cloneSourceOf(input);
    if (source === undefined || (input.url !== undefined && input.hostPath !== undefined)) throw new AgentisoError("INVALID_INPUT", "give exactly one of url (a git URL) or hostPath (a repository on the host)");
    const commit = await cloneIntoWorkspace(workspaceDepsFor(ctx), record, guest, source, input.dest, input.branch);
    return { workspace: record.name, dest: input.dest, commit };
  },
});

export const gitStatus = defineOperation({
  name: "git_status",
  description: "Status of a repository in a workspace: branch, upstream, ahead/behind and changed files (index and work-tree letters as in git status --short).",
  category: "other",
  input: z.object({ workspace: WorkspaceRef, path: RepoDir }).strict(),
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    return gitStatusIn(guest, input.path, ctx.signal);
  },
});

export const gitDiff = defineOperation({
  name: "git_diff",
  description: "The patch of a repository in a workspace: work tree (staged and unstaged) against HEAD, or against another ref. Untracked files are included unless includeUntracked is false.",
  category: "other",
  input: z
    .object({
      workspace: WorkspaceRef,
      path: RepoDir,
      ref: z.string().min(1).max(256).regex(/^[^-\s][^\s]*$/, "a ref must not start with - or contain spaces").optional().describe("Compare against this commit, branch or tag (default HEAD)"),
      includeUntracked: z.boolean().default(true).describe("Show new, untracked files as additions (marks them intent-to-add)"),
      maxBytes: z.number().int().min(1).max(MAX_PATCH_BYTES).optional().describe(`Cap on the patch size (default and maximum ${MAX_PATCH_BYTES}); truncated=true past it`),
    })
    .strict(),
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    const against = input.ref ?? "HEAD";
    const diff = await gitDiffIn(guest, input.path, { ref: against, includeUntracked: input.includeUntracked, maxBytes: input.maxBytes ?? MAX_PATCH_BYTES, signal: ctx.signal });
    return { ...diff, against };
  },
});

export const gitCommit = defineOperation({
  name: "git_commit",
  description: "Commit in a repository of a workspace (by default every change, new files included). Returns the new commit, or committed=false when there was nothing to commit.",
  category: "other",
  input: z
    .object({
      workspace: WorkspaceRef,
      path: RepoDir,
      message: z.string().min(1).max(65536).describe("Commit message"),
      all: z.boolean().default(true).describe("Stage every change (git add --all) first; false commits only what is staged"),
      authorName: z.string().min(1).max(256).default("agentiso").describe("Author and committer name"),
      authorEmail: z.string().min(3).max(256).default("agent@agentiso.local").describe("Author and committer email"),
    })
    .strict(),
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    const commit = await gitCommitIn(guest, input.path, { message: input.message, all: input.all, author: { name: input.authorName, email: input.authorEmail }, signal: ctx.signal });
    return commit === null ? { committed: false, commit: null } : { committed: true, commit };
  },
});
