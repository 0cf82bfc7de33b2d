// A workspace's life beyond start and stop: pause and resume (frozen, memory kept, no CPU),
// and its lifecycle limits (ttl, idle timeout) changed after creation.
import { z } from "zod";
import { defineContract } from "./contract.js";
import { LifecycleArgs, WorkspaceRef } from "./common-schemas.js";
import { WorkspaceSchema } from "./result-schemas.js";

const Ref = z.object({ workspace: WorkspaceRef }).strict();

export const workspacePause = defineContract({
  name: "workspace_pause",
  title: "Pause a workspace",
  description:
    "Freeze every process of a running workspace: it uses no CPU and keeps its memory and files until workspace_resume. Calls that need it running (exec, files, git) answer CONFLICT meanwhile; stop and destroy still work.",
  category: "other",
  hints: { idempotent: true },
  input: Ref,
  output: WorkspaceSchema,
});

export const workspaceResume = defineContract({
  name: "workspace_resume",
  title: "Resume a paused workspace",
  description: "Let a paused workspace run again where it stopped (its processes keep their pids and state).",
  category: "other",
  hints: { idempotent: true },
  input: Ref,
  output: WorkspaceSchema,
});

export const workspaceLifecycle = defineContract({
  name: "workspace_lifecycle",
  title: "Set a workspace's ttl and idle timeout",
  description:
    'Change when a workspace is stopped or destroyed: ttl (from now) and idleTimeout (without activity), each with its action; "none" removes a limit, an action alone changes what a set limit does. Without arguments it only shows them. Returns the workspace with its lifecycle deadlines.',
  category: "other",
  hints: { idempotent: true },
  input: z.object({ workspace: WorkspaceRef, ...LifecycleArgs }).strict(),
  output: WorkspaceSchema,
});
