// git inside a workspace: clone (a URL, or a host repository copied in as a bundle), status,
// diff, commit, log and checkout.
import { z } from "zod";
import { MAX_EXEC_INLINE_BYTES } from "../protocol/version.js";
import { defineContract } from "./contract.js";
import { WorkspaceRef } from "./common-schemas.js";

export const DEFAULT_REPO_DIR = "/workspace";
export const MAX_PATCH_BYTES = MAX_EXEC_INLINE_BYTES;
export const MAX_LOG_COMMITS = 1000;
/** A branch, tag or commit: never an option (no leading -), no spaces. */
const GitRef = z.string().min(1).max(256).regex(/^[^-\s][^\s]*$/, "a ref must not start with - or contain spaces");
const RepoDir = z.string().min(1).max(4096).default(DEFAULT_REPO_DIR).describe(`Repository directory inside the workspace (default ${DEFAULT_REPO_DIR})`);

/** Where a clone comes from: exactly one of url and hostPath (checked when it runs). */
export const CloneSourceArgs = {
  url: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^[^-]/, "a URL must not start with -")
    .optional()
    .describe("Git URL to clone (https://, git://, ssh://, user@host:path) or a path inside the workspace"),
  hostPath: z.string().min(1).max(4096).optional().describe("A git repository on the host (MCP sessions: a path relative to, or inside, this session's own transfer directory)"),
  branch: z.string().min(1).max(256).regex(/^[^-\s][^\s]*$/, "a branch must not start with - or contain spaces").optional().describe("Branch or tag to check out (default: the remote's HEAD)"),
};

export const gitClone = defineContract({
  name: "git_clone",
  title: "Clone a repository",
  description:
    "Clone a repository into a workspace: a git URL (the workspace gets outbound network just for the clone) or a host repository path (copied in as a git bundle; in an MCP session it must lie inside the host transfer directory). Returns the checked-out commit.",
  category: "other",
  hints: { openWorld: true },
  input: z.object({ workspace: WorkspaceRef, ...CloneSourceArgs, dest: RepoDir.describe(`Directory to clone into (default ${DEFAULT_REPO_DIR}); must not exist or be empty`) }).strict(),
  output: z.object({ workspace: z.string(), dest: z.string(), commit: z.string() }),
});

export const gitStatus = defineContract({
  name: "git_status",
  title: "Show git status",
  description: "Status of a repository in a workspace: branch, upstream, ahead/behind and changed files (index and work-tree letters as in git status --short).",
  category: "other",
  hints: { readOnly: true, idempotent: true },
  input: z.object({ workspace: WorkspaceRef, path: RepoDir }).strict(),
  output: z.object({
    branch: z.string().nullable(),
    upstream: z.string().nullable(),
    ahead: z.number(),
    behind: z.number(),
    clean: z.boolean(),
    files: z.array(
      z.object({
        path: z.string(),
        from: z.string().optional().describe("For renames and copies: the path before"),
        index: z.string().describe('Index (staged) status letter, e.g. "M", "A", "D", "R", "?" or " "'),
        worktree: z.string().describe("Work-tree status letter"),
      }),
    ),
  }),
});

export const gitDiff = defineContract({
  name: "git_diff",
  title: "Show the patch",
  description:
    "The patch of a repository in a workspace: work tree (staged and unstaged) against HEAD, or against another ref. Untracked files are included unless includeUntracked is false.",
  category: "other",
  hints: { readOnly: true, idempotent: true },
  input: z
    .object({
      workspace: WorkspaceRef,
      path: RepoDir,
      ref: z.string().min(1).max(256).regex(/^[^-\s][^\s]*$/, "a ref must not start with - or contain spaces").optional().describe("Compare against this commit, branch or tag (default HEAD)"),
      includeUntracked: z.boolean().default(true).describe("Show new, untracked files as additions (marks them intent-to-add)"),
      maxBytes: z.number().int().min(1).max(MAX_PATCH_BYTES).optional().describe(`Cap on the patch size (default and maximum ${MAX_PATCH_BYTES}); truncated=true past it`),
    })
    .strict(),
  output: z.object({ patch: z.string(), truncated: z.boolean(), against: z.string() }),
});

export const gitCommit = defineContract({
  name: "git_commit",
  title: "Commit",
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
  output: z.object({ committed: z.boolean(), commit: z.string().nullable() }),
});

export const gitLog = defineContract({
  name: "git_log",
  title: "Show commits",
  description: `The latest commits of a repository in a workspace, newest first: hash, author, email, date (ISO 8601) and subject. At most maxCount (default 20, at most ${MAX_LOG_COMMITS}); truncated says there are more.`,
  category: "other",
  hints: { readOnly: true, idempotent: true },
  input: z
    .object({
      workspace: WorkspaceRef,
      path: RepoDir,
      ref: GitRef.optional().describe("Start from this branch, tag or commit (default HEAD)"),
      maxCount: z.number().int().min(1).max(MAX_LOG_COMMITS).default(20).describe(`Commits to return (default 20, at most ${MAX_LOG_COMMITS})`),
      file: z.string().min(1).max(4096).optional().describe("Only commits that touch this path (relative to the repository)"),
    })
    .strict(),
  output: z.object({
    commits: z.array(z.object({ hash: z.string(), author: z.string(), email: z.string(), date: z.string().describe("Author date, ISO 8601"), subject: z.string() })),
    truncated: z.boolean().describe("More commits exist than were returned"),
  }),
});

export const gitCheckout = defineContract({
  name: "git_checkout",
  title: "Check out a branch or commit",
  description:
    "Switch a repository in a workspace to a branch, tag or commit (a tag or commit leaves HEAD detached), or create a branch with create: true (at startPoint, default HEAD). Uncommitted changes are kept; git refuses (INVALID_STATE) when they would be overwritten.",
  category: "other",
  input: z
    .object({
      workspace: WorkspaceRef,
      path: RepoDir,
      ref: GitRef.describe("Branch, tag or commit to check out; with create, the new branch's name"),
      create: z.boolean().default(false).describe("Create branch ref (fails if it exists) and switch to it"),
      startPoint: GitRef.optional().describe("With create: where the new branch starts (default HEAD)"),
    })
    .strict(),
  output: z.object({ branch: z.string().nullable().describe("The checked-out branch; null when HEAD is detached"), commit: z.string() }),
});
