// What the engine knows about a workspace: the row in SQLite and the object every front door
// returns (CLI --json, MCP, control API).
import { normalizePolicy } from "../core/network-allowlist.js";
import type { NetworkMode, NetworkPolicy, RuntimeKind } from "../runtimes/workspace-runtime.js";
import type { WorkspaceLifecycle } from "./lifecycle.js";
import type { WorkspaceState } from "./workspace-state.js";

export interface WorkspaceRecord {
  id: string;
  name: string;
  state: WorkspaceState;
  image: string;
  runtime: RuntimeKind;
  network: NetworkMode;
  /** With network allowlist: what it may reach and the exceptions (canonical entries). */
  allowlist?: NetworkAllowlist;
  memoryMiB: number;
  cpus: number;
  pidsLimit: number;
  diskBytes: number;
  /** Set for forks: origin workspace NAME at fork time and its snapshot. */
  forkedFrom?: { workspace: string; workspaceId: string; snapshot: string };
  /** MCP session that created or adopted it; undefined = unowned (CLI-created). */
  owner?: string;
  /** Host pid of the workspace's init or QEMU process while running. */
  pid?: number;
  /** Why it is in state failed. */
  error?: string;
  /** Its ttl and idle timeout with their deadlines; absent when it has neither. */
  lifecycle?: WorkspaceLifecycle;
  createdAt: string;
  updatedAt: string;
}

export interface NetworkAllowlist {
  allow: string[];
  deny: string[];
}

// The record's whole network policy, as the runtime applies it.
export function networkPolicyOf(record: Pick<WorkspaceRecord, "network" | "allowlist">): NetworkPolicy {
  return { mode: record.network, allow: record.allowlist?.allow ?? [], deny: record.allowlist?.deny ?? [] };
}

// A validated policy from a bare mode (none, egress) or a whole policy (WorkspaceService.setNetwork
// applies it live to a running workspace and stores it either way).
export function asNetworkPolicy(wanted: NetworkMode | NetworkPolicy): NetworkPolicy {
  return normalizePolicy(typeof wanted === "string" ? { mode: wanted } : wanted);
}

export interface SnapshotRecord {
  workspaceId: string;
  name: string;
  createdAt: string;
  /** Set for a memory snapshot: the saved machine's file size and what it can be resumed into. */
  memory?: SnapshotMemory;
}

/** A memory snapshot's saved machine (engine/memory-snapshots.ts). */
export interface SnapshotMemory {
  sizeBytes: number;
  machine: SavedMachine;
}

/** What a saved machine can be resumed into: the same resources and the same runtime build. */
export interface SavedMachine {
  memoryMiB: number;
  cpus: number;
  pidsLimit: number;
  /** The runtime's templateCompatibility() when it was saved (accelerator, kernel, agent). */
  compatibility: string;
}

/** A host port forwarded to a port inside a workspace (`ws port`); kept while the workspace lives. */
export interface PortForwardRecord {
  workspaceId: string;
  guestPort: number;
  hostPort: number;
  /** Host address listened on, an IP literal (127.0.0.1 unless asked otherwise). */
  bindAddress: string;
  createdAt: string;
}
