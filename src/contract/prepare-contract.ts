// workspace_prepare: the golden-workspace recipe of the orchestrate flow as one call — create
// from an image, clone a repository, run setup commands, snapshot.
import { z } from "zod";
import { defineContract } from "./contract.js";
import { LifecycleArgs, ResourceArgs, SnapshotName, WorkspaceName } from "./common-schemas.js";
import { CloneSourceArgs, DEFAULT_REPO_DIR } from "./git-contracts.js";
import { WorkspaceIdentitySchema } from "./result-schemas.js";

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
    ...LifecycleArgs,
  })
  .strict();

export type PrepareInput = z.output<typeof PrepareInputSchema>;

export const PrepareResultSchema = z.object({
  workspace: WorkspaceIdentitySchema,
  snapshot: z.string(),
  commit: z.string().nullable().describe("HEAD of the cloned repo; null when no repo was given"),
});

export const workspacePrepare = defineContract({
  name: "workspace_prepare",
  title: "Prepare a golden workspace",
  description:
    'Prepare a golden workspace in one call: create it from an image, clone a repo (url, or hostPath on the host), run setup commands, and snapshot it (default "golden") so workspace_batch_fork can fan out workers. Returns {workspace, snapshot, commit}.',
  category: "create",
  hints: { openWorld: true },
  input: PrepareInputSchema,
  output: PrepareResultSchema,
});
