// SQLite state of one engine (better-sqlite3 12: 13 crashes on Node 20). WAL mode so readers
// never block the writer; every multi-row change in a transaction.
import Database from "better-sqlite3";
import { AgentisoError } from "../core/errors.js";
import type { WorkspaceLifecycle } from "./lifecycle.js";
import { MIGRATIONS } from "./migrations.js";
import type { PortForwardRecord, SnapshotMemory, SnapshotRecord, WorkspaceRecord } from "./workspace-record.js";
import type { WorkspaceState } from "./workspace-state.js";
import type { NetworkPolicy } from "../core/network-allowlist.js";
import { allowlistColumns, lifecycleColumns, toRecord, type WorkspaceRow } from "./workspace-rows.js";

export class StateDb {
  private readonly db: Database.Database;
  /** Compiled once per SQL text: each prepare compiles the SQL again, and a fork runs several. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.migrate();
  }

  close(): void {
    this.db.close();
  }

  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) this.statements.set(sql, (prepared = this.db.prepare(sql)));
    return prepared;
  }

  private migrate(): void {
    const current = this.db.pragma("user_version", { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new AgentisoError("INVALID_STATE", `state database schema ${current} is newer than this agentiso (${MIGRATIONS.length}): upgrade agentiso`);
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version]!);
        this.db.pragma(`user_version = ${version + 1}`);
      })();
    }
  }

  insertWorkspace(record: WorkspaceRecord): void {
    try {
      this.statement(
        `INSERT INTO workspaces (id, name, state, image, runtime, network, memory_mib, cpus, pids_limit, disk_bytes,
           forked_from_id, forked_from_name, forked_from_snapshot, owner, pid, error, created_at, updated_at,
           ttl_at, ttl_action, idle_timeout_s, idle_action, last_active_at, network_allow, network_deny)
         VALUES (@id, @name, @state, @image, @runtime, @network, @memoryMiB, @cpus, @pidsLimit, @diskBytes,
           @forkedFromId, @forkedFromName, @forkedFromSnapshot, @owner, @pid, @error, @createdAt, @updatedAt,
           @ttlAt, @ttlAction, @idleTimeoutS, @idleAction, @createdAt, @networkAllow, @networkDeny)`,
      )
      .run({
        ...record,
        ...lifecycleColumns(record.lifecycle),
        ...allowlistColumns(record.allowlist),
        forkedFromId: record.forkedFrom?.workspaceId ?? null,
        forkedFromName: record.forkedFrom?.workspace ?? null,
        forkedFromSnapshot: record.forkedFrom?.snapshot ?? null,
        owner: record.owner ?? null,
        pid: record.pid ?? null,
        error: record.error ?? null,
      });
    } catch (err) {
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw new AgentisoError("CONFLICT", `a workspace named ${record.name} already exists: choose another name`);
      }
      throw err;
    }
  }

  /** Replaces the network mode and its allowlist (none unless the mode is allowlist). */
  setNetwork(id: string, policy: NetworkPolicy): void {
    const allowlist = policy.mode === "allowlist" ? { allow: policy.allow, deny: policy.deny } : undefined;
    this.statement("UPDATE workspaces SET network = @network, network_allow = @networkAllow, network_deny = @networkDeny, updated_at = @updatedAt WHERE id = @id")
      .run({ id, network: policy.mode, ...allowlistColumns(allowlist), updatedAt: new Date().toISOString() });
  }

  updateWorkspace(id: string, changes: Partial<Pick<WorkspaceRecord, "state" | "pid" | "error" | "owner" | "name">>): void {
    const columns: string[] = ["updated_at = @updatedAt"];
    const values: Record<string, unknown> = { id, updatedAt: new Date().toISOString() };
    for (const [key, value] of Object.entries(changes)) {
      const column = ["pid", "error", "owner", "state", "name"].includes(key) ? key : undefined;
      if (!column) continue;
      columns.push(`${column} = @${key}`);
      values[key] = value ?? null;
    }
    try {
      this.statement(`UPDATE workspaces SET ${columns.join(", ")} WHERE id = @id`).run(values);
    } catch (err) {
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw new AgentisoError("CONFLICT", `a workspace named ${String(changes.name)} already exists: choose another name`);
      }
      throw err;
    }
  }

  /** Replaces the workspace's limits; an idle limit's lastActivityAt becomes its last activity. */
  setLifecycle(id: string, lifecycle: WorkspaceLifecycle | undefined): void {
    this.statement(
      `UPDATE workspaces SET ttl_at = @ttlAt, ttl_action = @ttlAction, idle_timeout_s = @idleTimeoutS, idle_action = @idleAction,
         last_active_at = COALESCE(@lastActiveAt, last_active_at), updated_at = @updatedAt WHERE id = @id`,
    )
    .run({ id, ...lifecycleColumns(lifecycle), lastActiveAt: lifecycle?.idle?.lastActivityAt ?? null, updatedAt: new Date().toISOString() });
  }

  /**
   * Hands a warm-pool workspace to its caller in one statement, and only while `fromOwner` still
   * holds it (false: another claim or a reap took it first): name, owner, creation time, limits.
   */
  handOut(id: string, fromOwner: string, to: { name: string; owner: string | undefined; at: string; lifecycle: WorkspaceLifecycle | undefined }): boolean {
    try {
      const changed = this.statement(
        `UPDATE workspaces SET name = @name, owner = @owner, created_at = @at, updated_at = @at, ttl_at = @ttlAt, ttl_action = @ttlAction,
           idle_timeout_s = @idleTimeoutS, idle_action = @idleAction, last_active_at = @at WHERE id = @id AND owner = @fromOwner`,
      )
      .run({ id, fromOwner, name: to.name, owner: to.owner ?? null, at: to.at, ...lifecycleColumns(to.lifecycle) });
      return changed.changes === 1;
    } catch (err) {
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") throw new AgentisoError("CONFLICT", `a workspace named ${to.name} already exists: choose another name`);
      throw err;
    }
  }

  /** Records the last activity of several workspaces at once (one transaction, never moved back). */
  saveActivity(entries: ReadonlyArray<{ id: string; at: string }>): void {
    const update = this.statement("UPDATE workspaces SET last_active_at = @at WHERE id = @id AND (last_active_at IS NULL OR last_active_at < @at)");
    this.db.transaction(() => {
      for (const entry of entries) update.run(entry);
    })();
  }

  deleteWorkspace(id: string): void {
    this.statement("DELETE FROM workspaces WHERE id = ?").run(id);
  }

  getWorkspace(idOrName: string): WorkspaceRecord | undefined {
    const row = this.statement("SELECT * FROM workspaces WHERE id = ? OR name = ?").get(idOrName, idOrName) as WorkspaceRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  listWorkspaces(filter: { owner?: string; states?: WorkspaceState[] } = {}): WorkspaceRecord[] {
    const rows = this.statement("SELECT * FROM workspaces ORDER BY created_at, name").all() as WorkspaceRow[];
    return rows
      .map(toRecord)
      .filter((r) => filter.owner === undefined || r.owner === filter.owner)
      .filter((r) => !filter.states || filter.states.includes(r.state));
  }

  /** Workspaces forked from one of this workspace's snapshots (optionally one snapshot). */
  forksOf(workspaceId: string, snapshot?: string): WorkspaceRecord[] {
    const rows = this.statement("SELECT * FROM workspaces WHERE forked_from_id = ? AND (? IS NULL OR forked_from_snapshot = ?)")
      .all(workspaceId, snapshot ?? null, snapshot ?? null) as WorkspaceRow[];
    return rows.map(toRecord);
  }

  insertSnapshot(snapshot: SnapshotRecord): void {
    try {
      this.statement("INSERT INTO snapshots (workspace_id, name, created_at, memory) VALUES (?, ?, ?, ?)")
        .run(snapshot.workspaceId, snapshot.name, snapshot.createdAt, snapshot.memory ? JSON.stringify(snapshot.memory) : null);
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith("SQLITE_CONSTRAINT")) {
        throw new AgentisoError("CONFLICT", `snapshot ${snapshot.name} already exists: choose another name or delete it first`);
      }
      throw err;
    }
  }

  listSnapshots(workspaceId: string): SnapshotRecord[] {
    const rows = this.statement("SELECT workspace_id, name, created_at, memory FROM snapshots WHERE workspace_id = ? ORDER BY created_at, name").all(workspaceId) as Array<{
      workspace_id: string;
      name: string;
      created_at: string;
      memory: string | null;
    }>;
    return rows.map((row) => ({
      workspaceId: row.workspace_id,
      name: row.name,
      createdAt: row.created_at,
      ...(row.memory !== null && { memory: JSON.parse(row.memory) as SnapshotMemory }),
    }));
  }

  deleteSnapshot(workspaceId: string, name: string): void {
    this.statement("DELETE FROM snapshots WHERE workspace_id = ? AND name = ?").run(workspaceId, name);
  }

  // A forward's row; a host port is held by one forward only (CONFLICT otherwise).
  insertPortForward(forward: PortForwardRecord): void {
    if (this.statement("SELECT 1 FROM port_forwards WHERE host_port = ?").get(forward.hostPort) !== undefined) {
      const message = `host port ${forward.hostPort} is held by another forward (kept for its workspace while stopped): choose another host port, or omit it for a free one`;
      throw new AgentisoError("CONFLICT", message);
    }
    this.statement("INSERT INTO port_forwards (workspace_id, guest_port, host_port, bind_address, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(forward.workspaceId, forward.guestPort, forward.hostPort, forward.bindAddress, forward.createdAt);
  }

  listPortForwards(workspaceId?: string): PortForwardRecord[] {
    const rows = this.statement("SELECT * FROM port_forwards WHERE ? IS NULL OR workspace_id = ? ORDER BY created_at, guest_port")
      .all(workspaceId ?? null, workspaceId ?? null) as Array<{ workspace_id: string; guest_port: number; host_port: number; bind_address: string; created_at: string }>;
    return rows.map((r) => ({ workspaceId: r.workspace_id, guestPort: r.guest_port, hostPort: r.host_port, bindAddress: r.bind_address, createdAt: r.created_at }));
  }

  deletePortForward(workspaceId: string, guestPort: number): void {
    this.statement("DELETE FROM port_forwards WHERE workspace_id = ? AND guest_port = ?").run(workspaceId, guestPort);
  }

  getBase(name: string): { name: string; imageHash: string } | undefined {
    const row = this.statement("SELECT name, image_hash FROM bases WHERE name = ?").get(name) as { name: string; image_hash: string } | undefined;
    return row ? { name: row.name, imageHash: row.image_hash } : undefined;
  }

  putBase(name: string, imageHash: string): void {
    this.statement("INSERT INTO bases (name, image_hash, imported_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET image_hash = excluded.image_hash, imported_at = excluded.imported_at")
      .run(name, imageHash, new Date().toISOString());
  }

  deleteBase(name: string): void {
    this.statement("DELETE FROM bases WHERE name = ?").run(name);
  }
}
