// What operations answer with, as schemas: a workspace, a snapshot, a command's result.
// They describe the JSON every front door returns (control API, MCP structuredContent, CLI
// --json, the SDK's types); the operations' run() is type-checked against them.
import { z } from "zod";
import { DirEntrySchema, FileStatSchema, JobInfoSchema } from "../protocol/common-schemas.js";

export const WorkspaceStateSchema = z.enum(["creating", "starting", "running", "paused", "stopping", "stopped", "destroying", "failed"]);

export const ExpireActionSchema = z.enum(["stop", "destroy"]);

export const LifecycleSchema = z
  .object({
    ttl: z
      .object({ action: ExpireActionSchema, at: z.string().describe("When (ISO 8601)") })
      .optional()
      .describe("Time to live: at `at` the workspace is stopped (once) or destroyed"),
    idle: z
      .object({
        action: ExpireActionSchema,
        timeoutSeconds: z.number().describe("How long without activity (exec, files, any call naming the workspace; a running command or background job counts)"),
        lastActivityAt: z.string(),
        at: z.string().optional().describe("When it is stopped or destroyed if nothing happens until then; absent where the action does not apply (a stopped workspace is not stopped again)"),
      })
      .optional()
      .describe("Idle timeout"),
  })
  .describe("Lifecycle limits and their deadlines; absent when the workspace has none");

export const WorkspaceSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: WorkspaceStateSchema,
  image: z.string(),
  runtime: z.enum(["container", "vm"]),
  network: z.enum(["none", "egress", "allowlist"]),
  allowlist: z.object({ allow: z.array(z.string()), deny: z.array(z.string()) }).optional().describe("With network allowlist: its entries"),
  memoryMiB: z.number(),
  cpus: z.number(),
  pidsLimit: z.number(),
  diskBytes: z.number(),
  forkedFrom: z.object({ workspace: z.string(), workspaceId: z.string(), snapshot: z.string() }).optional().describe("For forks: the origin workspace and its snapshot"),
  owner: z.string().optional().describe("The MCP session that owns it; absent when created from the CLI"),
  pid: z.number().optional().describe("Host pid of its init or QEMU process while running"),
  error: z.string().optional().describe("Why it failed"),
  lifecycle: LifecycleSchema.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type Workspace = z.output<typeof WorkspaceSchema>;

export const WorkspaceIdentitySchema = z.object({ id: z.string(), name: z.string() });

export const SnapshotSchema = z.object({
  workspaceId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  workspace: z.string().describe("Name of the workspace it belongs to"),
  exclusiveBytes: z.number().optional().describe("Bytes only this snapshot holds, where the storage can tell"),
  memoryBytes: z.number().optional().describe("Set for a memory snapshot: the size of its saved machine (counted toward the workspace's disk limit)"),
  dependents: z.array(z.string()).describe("Workspaces forked from it"),
});

export type Snapshot = z.output<typeof SnapshotSchema>;

/** A host port forwarded to a workspace port (port_forward, workspace_info). */
export const PortForwardSchema = z.object({
  workspace: z.string(),
  guestPort: z.number(),
  hostPort: z.number(),
  bind: z.string().describe("Host address listened on"),
  address: z.string().describe("host:port to connect to, e.g. 127.0.0.1:41234"),
  public: z.boolean().describe("Listening on an address other hosts can reach"),
  active: z.boolean().describe("The host listener is open; false while the workspace is stopped (it reopens at start) or when error says why"),
  error: z.string().optional(),
  openConnections: z.number(),
  bytesToWorkspace: z.number().describe("Since the listener last opened"),
  bytesFromWorkspace: z.number(),
  createdAt: z.string(),
});
export type PortForward = z.output<typeof PortForwardSchema>;

export const ExecResultSchema = z.object({
  exitCode: z.number().int().nullable().describe("null when killed by a signal"),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  truncated: z.boolean().describe("output past maxOutputBytes was dropped"),
  stdout: z.string(),
  stderr: z.string(),
  durationMs: z.number(),
  jobId: z.string().optional().describe("set when the command ran past backgroundAfterMs: it runs on as this background job, exitCode is null"),
});

export const ErrorSchema = z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() });

export { DirEntrySchema, FileStatSchema, JobInfoSchema };
