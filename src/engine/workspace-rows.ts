// How a workspaces row of state.db maps to a WorkspaceRecord and back (state-db.ts runs the SQL).
import { withIdleDeadline, type ExpireAction, type WorkspaceLifecycle } from "./lifecycle.js";
import type { WorkspaceRecord } from "./workspace-record.js";
import type { WorkspaceState } from "./workspace-state.js";

export interface WorkspaceRow {
  id: string;
  name: string;
  state: string;
  image: string;
  runtime: string;
  network: string;
  memory_mib: number;
  cpus: number;
  pids_limit: number;
  disk_bytes: number;
  forked_from_id: string | null;
  forked_from_name: string | null;
  forked_from_snapshot: string | null;
  owner: string | null;
  pid: number | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  ttl_at: string | null;
  ttl_action: string | null;
  idle_timeout_s: number | null;
  idle_action: string | null;
  last_active_at: string | null;
  network_allow: string | null;
  network_deny: string | null;
}

export function toRecord(row: WorkspaceRow): WorkspaceRecord {
  const record: WorkspaceRecord = {
    id: row.id,
    name: row.name,
    state: row.state as WorkspaceState,
    image: row.image,
    runtime: row.runtime as WorkspaceRecord["runtime"],
    network: row.network as WorkspaceRecord["network"],
    memoryMiB: row.memory_mib,
    cpus: row.cpus,
    pidsLimit: row.pids_limit,
    diskBytes: row.disk_bytes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.forked_from_id && row.forked_from_snapshot) {
    record.forkedFrom = { workspace: row.forked_from_name ?? row.forked_from_id, workspaceId: row.forked_from_id, snapshot: row.forked_from_snapshot };
  }
  if (row.network_allow) record.allowlist = { allow: JSON.parse(row.network_allow) as string[], deny: JSON.parse(row.network_deny ?? "[]") as string[] };
  if (row.owner) record.owner = row.owner;
  if (row.pid) record.pid = row.pid;
  if (row.error) record.error = row.error;
  const lifecycle = lifecycleOfRow(row);
  if (lifecycle) record.lifecycle = withIdleDeadline(lifecycle, record.state, Date.parse(row.last_active_at ?? row.created_at));
  return record;
}

function lifecycleOfRow(row: WorkspaceRow): WorkspaceLifecycle | undefined {
  const lifecycle: WorkspaceLifecycle = {};
  if (row.ttl_at && row.ttl_action) lifecycle.ttl = { action: row.ttl_action as ExpireAction, at: row.ttl_at };
  if (row.idle_timeout_s && row.idle_action) {
    lifecycle.idle = { action: row.idle_action as ExpireAction, timeoutSeconds: row.idle_timeout_s, lastActivityAt: row.last_active_at ?? row.created_at };
  }
  return lifecycle.ttl || lifecycle.idle ? lifecycle : undefined;
}

export function allowlistColumns(allowlist: WorkspaceRecord["allowlist"]) {
  return { networkAllow: allowlist ? JSON.stringify(allowlist.allow) : null, networkDeny: allowlist ? JSON.stringify(allowlist.deny) : null };
}

export function lifecycleColumns(lifecycle: WorkspaceLifecycle | undefined) {
  return {
    ttlAt: lifecycle?.ttl?.at ?? null,
    ttlAction: lifecycle?.ttl?.action ?? null,
    idleTimeoutS: lifecycle?.idle?.timeoutSeconds ?? null,
    idleAction: lifecycle?.idle?.action ?? null,
  };
}
