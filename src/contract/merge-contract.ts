// workspace_merge: other workspaces' changes (commits and uncommitted edits) applied to one
// target workspace, one source after the other.
import { z } from "zod";
import { defineContract } from "./contract.js";
import { WorkspaceRef } from "./common-schemas.js";
import { DEFAULT_REPO_DIR } from "./git-contracts.js";

export const MAX_MERGE_SOURCES = 32;

const SourceResultSchema = z.object({
  source: z.string().describe("The source workspace's name"),
  status: z
    .enum(["applied", "unchanged", "conflicted", "failed"])
    .describe("applied: committed into the target; unchanged: nothing to bring; conflicted: does not apply to the target, which was left as before; failed: its changes could not be read (see detail)"),
  base: z.string().optional().describe("The commit its changes were measured from"),
  files: z.array(z.string()).describe("Files it changed (for conflicted: the conflicting ones, where git named them)"),
  commit: z.string().optional().describe("The target's commit that holds it (applied)"),
  branch: z.string().optional().describe("branch-per-source: the branch its commit is on (kept after a merge conflict, to merge by hand)"),
  detail: z.string().optional().describe("git's words, or why it failed"),
});

export const workspaceMerge = defineContract({
  name: "workspace_merge",
  title: "Merge workspaces' changes into one",
  description:
    "Apply the changes of one or more source workspaces to a target workspace's repository, in order. A source's changes are everything its repository holds against the newest target commit in its history (forks of one golden share it): its commits and uncommitted edits, new files included, as one patch. branch-per-source commits each on a branch merge/<source> and merges it with --no-ff; cherry-pick commits each straight onto the target's branch. A source that conflicts is reported and leaves the target as it was; the others still go in. The target's tracked files must have no uncommitted changes. Sources are not changed.",
  category: "other",
  input: z
    .object({
      target: WorkspaceRef.describe("Workspace name or id to merge into"),
      sources: z.array(WorkspaceRef).min(1).max(MAX_MERGE_SOURCES).describe("Workspaces whose changes to bring, in order"),
      strategy: z.enum(["branch-per-source", "cherry-pick"]).default("branch-per-source").describe("branch-per-source (default): a branch and a merge commit per source; cherry-pick: one commit per source on the target's branch"),
      path: z.string().min(1).max(4096).default(DEFAULT_REPO_DIR).describe(`The repository's directory, the same in every workspace (default ${DEFAULT_REPO_DIR})`),
      commitMessage: z.string().min(1).max(4096).optional().describe('Start of each commit message, followed by the source\'s name (default "merge workspace")'),
      base: z
        .string()
        .regex(/^[0-9a-f]{7,64}$/, "a commit hash (7 to 64 hex digits)")
        .optional()
        .describe("Measure every source's changes from this commit instead of finding the common one"),
    })
    .strict(),
  output: z.object({
    target: z.string(),
    strategy: z.enum(["branch-per-source", "cherry-pick"]),
    branch: z.string().nullable().describe("The target's branch (null: detached HEAD)"),
    commit: z.string().describe("The target's HEAD afterwards"),
    applied: z.array(z.string()).describe("Sources now in the target"),
    conflicted: z.array(z.string()).describe("Sources that did not apply"),
    results: z.array(SourceResultSchema).describe("One per source, in order"),
  }),
});
