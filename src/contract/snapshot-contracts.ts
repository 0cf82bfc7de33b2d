// Snapshots and forks: the golden-snapshot pattern.
import { z } from "zod";
import { MAX_FORK_COUNT } from "../core/limits.js";
import { defineContract } from "./contract.js";
import { LifecycleArgs, ResourceArgs, SnapshotName, WorkspaceName, WorkspaceRef } from "./common-schemas.js";
import { SnapshotSchema, WorkspaceIdentitySchema, WorkspaceSchema } from "./result-schemas.js";

export const snapshot = defineContract({
  name: "snapshot",
  title: "Manage snapshots",
  description:
    "Manage a workspace's snapshots: create, restore (roll back), list or delete. A running VM's snapshot can include its memory (includeMemory): forks then resume it in about a second, with its running processes, instead of booting.",
  category: "other",
  hints: { destructive: true },
  input: z
    .object({
      workspace: WorkspaceRef,
      action: z.enum(["create", "restore", "list", "delete"]).describe("What to do"),
      name: SnapshotName.optional().describe("Snapshot name (required except for list)"),
      includeMemory: z
        .boolean()
        .optional()
        .describe(
          "create only, VM workspaces only: save the running machine's memory with the disk. Forks and a restore of a running workspace resume it (running processes and tmpfs files included) with a new hostname, clock and entropy instead of booting. Refused for containers and for VMs with network egress",
        ),
    })
    .strict(),
  output: z
    .union([SnapshotSchema, z.array(SnapshotSchema), WorkspaceSchema, z.object({ deleted: z.string(), workspace: z.string() })])
    .describe("create: the snapshot; list: every snapshot; restore: the workspace; delete: what was deleted"),
});

export const ForkInput = z
  .object({
    workspace: WorkspaceRef.describe("Workspace to fork from"),
    snapshot: SnapshotName.describe("Snapshot of that workspace to fork"),
    count: z.number().int().min(1).max(MAX_FORK_COUNT).optional().describe("How many forks (default 1), created in parallel"),
    name: WorkspaceName.optional().describe("Name of the fork (count 1) or prefix (count > 1)"),
    namePrefix: WorkspaceName.optional().describe("Forks are named PREFIX-1, PREFIX-2, ..."),
    ...ResourceArgs,
    ...LifecycleArgs,
  })
  .strict();

export const workspaceFork = defineContract({
  name: "workspace_fork",
  title: "Fork a snapshot",
  description: "Fork new workspaces from a snapshot (copy-on-write: instant whatever the size). Returns the new workspaces.",
  category: "create",
  input: ForkInput,
  output: z.array(WorkspaceSchema),
});

export const workspaceBatchFork = defineContract({
  name: "workspace_batch_fork",
  title: "Fork N workers",
  description: "Fork N worker workspaces from a snapshot in parallel and return their ids (for fan-out of parallel tasks).",
  category: "create",
  input: ForkInput.extend({ count: z.number().int().min(1).max(MAX_FORK_COUNT).describe("How many workers") }),
  output: z.object({ workers: z.array(WorkspaceIdentitySchema) }),
});
