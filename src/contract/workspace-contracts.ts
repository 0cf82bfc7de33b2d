// Workspace lifecycle: create, start, stop, destroy, list, info, pool, logs, network, adopt;
// pause, resume and lifecycle limits in lifecycle-contracts.ts.
import { z } from "zod";
import { defineContract } from "./contract.js";
import { LifecycleArgs, ResourceArgs, WorkspaceName, WorkspaceRef } from "./common-schemas.js";
import { PortForwardSchema, SnapshotSchema, WorkspaceSchema } from "./result-schemas.js";

const Ref = z.object({ workspace: WorkspaceRef }).strict();
const LOOKS = { readOnly: true, idempotent: true };

export const workspaceCreate = defineContract({
  name: "workspace_create",
  title: "Create a workspace",
  description: "Create an isolated Linux workspace from an image and start it. Returns the workspace (id, name, state, lifecycle deadlines).",
  category: "create",
  input: z
    .object({
      name: WorkspaceName.optional(),
      image: z.string().min(1).max(64).optional().describe('Image to start from, e.g. "base", "node", "python", "rust", "opencode"'),
      runtime: z.enum(["container", "vm"]).optional().describe("container (runc) or vm (QEMU microVM); default from config"),
      ...ResourceArgs,
      ...LifecycleArgs,
    })
    .strict(),
  output: WorkspaceSchema,
});

export const workspaceStart = defineContract({
  name: "workspace_start",
  title: "Start a workspace",
  description: "Start a stopped workspace.",
  category: "other",
  hints: { idempotent: true },
  input: Ref,
  output: WorkspaceSchema,
});

export const workspaceStop = defineContract({
  name: "workspace_stop",
  title: "Stop a workspace",
  description: "Stop a running workspace (its files are kept; start it again later).",
  category: "other",
  hints: { destructive: true, idempotent: true },
  input: Ref,
  output: WorkspaceSchema,
});

export const workspaceDestroy = defineContract({
  name: "workspace_destroy",
  title: "Destroy a workspace",
  description: "Destroy a workspace and its files and snapshots. Refused while forks of its snapshots exist.",
  category: "other",
  hints: { destructive: true, idempotent: true },
  input: Ref,
  output: z.object({ destroyed: z.string().describe("Its name"), id: z.string() }),
});

export const workspaceList = defineContract({
  name: "workspace_list",
  title: "List workspaces",
  description: "List workspaces (in an MCP session: the ones this session owns).",
  category: "other",
  hints: LOOKS,
  input: z.object({ state: z.enum(["running", "paused", "stopped", "failed"]).optional().describe("Only workspaces in this state") }).strict(),
  output: z.array(WorkspaceSchema),
});

const PoolSchema = z.object({
  key: z.string().describe("The settings a create must resolve to for this pool, as one string (also its metrics label)"),
  image: z.string(),
  runtime: z.enum(["container", "vm"]),
  memoryMiB: z.number(),
  cpus: z.number(),
  pidsLimit: z.number(),
  diskBytes: z.number(),
  network: z.enum(["none", "egress", "allowlist"]),
  allowlist: z.object({ allow: z.array(z.string()), deny: z.array(z.string()) }).optional().describe("A fork pool's inherited allowlist"),
  forkOf: z
    .object({ workspace: z.string(), workspaceId: z.string(), snapshot: z.string() })
    .optional()
    .describe("A fork pool's ([pool] forksPerSnapshot): the snapshot its workspaces are forked from (workspace: the origin's name when the pool began)"),
  size: z.number().describe("How many it keeps ready"),
  ready: z.number().describe("Ready to hand out now"),
  starting: z.number().describe("Being started to refill it"),
  hits: z.number().describe("Creates (forks, for a fork pool) served from it since the daemon started"),
  misses: z.number().describe("Creates (forks) of its settings that found none ready (started cold)"),
  reaped: z.number().describe("Destroyed unclaimed after the idle timeout"),
  dormant: z.boolean().describe("Emptied for idleness: refills at the next create of its settings"),
});

export const workspacePool = defineContract({
  name: "workspace_pool",
  title: "Show the warm pool",
  description:
    "The warm pool: workspaces started ahead of demand, per image and limits ([[pool.entries]] and vm.warmPool in config.toml), and forks per snapshot and limits ([pool] forksPerSnapshot, begun by a fork); a workspace_create or workspace_fork with the same settings gets one at once.",
  category: "other",
  hints: LOOKS,
  input: z.object({}).strict(),
  output: z.object({
    size: z.number().describe("Workspaces all pools keep ready"),
    ready: z.number().describe("Ready to hand out now, in all pools"),
    runtime: z.enum(["container", "vm"]).nullable().describe("The pools' runtime when they share one"),
    pools: z.array(PoolSchema),
  }),
});

export const workspaceInfo = defineContract({
  name: "workspace_info",
  title: "Show a workspace",
  description: "Show one workspace: state, image, resources, lineage, lifecycle deadlines (ttl, idle timeout), snapshots, forwarded ports.",
  category: "other",
  hints: LOOKS,
  input: Ref,
  output: WorkspaceSchema.extend({ snapshots: z.array(SnapshotSchema), ports: z.array(PortForwardSchema).describe("Host ports forwarded to it (port_forward)") }),
});

export const workspaceLogs = defineContract({
  name: "workspace_logs",
  title: "Read a workspace's log",
  description: "The workspace's console and agent log (tail); with followMs, also what is written to it for that long, as progress events.",
  category: "other",
  hints: LOOKS,
  streamsProgress: true,
  input: z
    .object({
      workspace: WorkspaceRef,
      maxBytes: z.number().int().min(1).max(4 * 1024 * 1024).optional().describe("How much of the end to return (default 64 KiB)"),
      followMs: z
        .number()
        .int()
        .min(1)
        .max(24 * 3600 * 1000)
        .optional()
        .describe("Then follow the log for this many ms (or until the call is cancelled): the tail, then every new byte, as output progress events (stream \"log\")"),
    })
    .strict(),
  output: z.object({ log: z.string() }),
});

export const workspaceNetwork = defineContract({
  name: "workspace_network",
  title: "Switch a workspace's network",
  description: "Switch a workspace's network: none (loopback only) or egress (outbound internet; the host stays unreachable). For an allowlist of hosts use network_policy.",
  category: "other",
  hints: { idempotent: true },
  input: z.object({ workspace: WorkspaceRef, mode: z.enum(["none", "egress"]).describe("none: loopback only; egress: outbound internet through user-mode NAT, host services stay unreachable") }).strict(),
  output: WorkspaceSchema,
});

export const workspaceAdopt = defineContract({
  name: "workspace_adopt",
  title: "Adopt a workspace",
  description:
    "Take ownership of a workspace: one no session owns (created from the CLI) for the host's own sessions; one of another session of the same client (e.g. before a reconnect) for a client's sessions.",
  category: "other",
  hints: { idempotent: true },
  input: Ref,
  output: WorkspaceSchema,
});
