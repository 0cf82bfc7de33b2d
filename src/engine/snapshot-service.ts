// Snapshots and forks: the golden-snapshot pattern. A fork is a new workspace whose volume is
// a copy-on-write clone of another workspace's snapshot; lineage is kept in SQLite and by the
// storage driver. A VM's snapshot can hold its memory too (memory-snapshots.ts): forks then
// resume the saved machine instead of booting.
import { AgentisoError } from "../core/errors.js";
import { MAX_FORK_COUNT } from "../core/limits.js";
import { KeyedLock } from "../core/keyed-lock.js";
import { assertValidName } from "../core/names.js";
import type { EngineDeps, GuestLink } from "./engine-deps.js";
import { MemorySnapshots } from "./memory-snapshots.js";
import type { StateDb } from "./state-db.js";
import type { SnapshotRecord, WorkspaceRecord } from "./workspace-record.js";
import type { CreateWorkspaceOptions } from "./workspace-options.js";
import { POOL_OWNER, type WarmPool } from "./warm-pool.js";
import type { WorkspaceService } from "./workspace-service.js";

export interface SnapshotView extends Omit<SnapshotRecord, "memory"> {
  workspace: string;
  /** A memory snapshot's saved machine: the size of its file. */
  memoryBytes?: number;
  exclusiveBytes?: number;
  /** Names of the workspaces forked from this snapshot. */
  dependents: string[];
}

export interface ForkOptions extends Omit<CreateWorkspaceOptions, "image" | "runtime"> {
  snapshot: string;
  count?: number;
  namePrefix?: string;
}

export interface SnapshotOptions {
  /** Save the running VM's memory with the disk (UNSUPPORTED for containers). */
  includeMemory?: boolean;
}

export class SnapshotService<G extends GuestLink> {
  private readonly lock = new KeyedLock();
  private readonly memory: MemorySnapshots<G>;
  private pool: Pick<WarmPool<G>, "claimForks" | "dropForks"> | undefined;

  constructor(
    private readonly workspaces: WorkspaceService<G>,
    private readonly db: StateDb,
    private readonly deps: EngineDeps<G>,
  ) {
    this.memory = new MemorySnapshots(workspaces, deps);
  }

  /** Lets `pool` serve forks from its fork pools (engine.ts builds it after reconcile). */
  usePool(pool: Pick<WarmPool<G>, "claimForks" | "dropForks">): void {
    this.pool = pool;
  }

  // Whether snapshots of this workspace can hold its memory (its runtime can save a machine).
  canIncludeMemory(idOrName: string): boolean {
    return this.memory.canSave(this.workspaces.get(idOrName));
  }

  // Storage first, then the row: a crash between leaves a storage snapshot without a row, which
  // reconcile removes (reconcile.ts). One create or delete per workspace at a time, so the name
  // check and the row agree with storage.
  async create(idOrName: string, snapshot: string, options: SnapshotOptions = {}): Promise<SnapshotView> {
    assertValidName(snapshot, "snapshot name");
    return this.lock.run([this.workspaces.get(idOrName).id], () => this.createLocked(idOrName, snapshot, options));
  }

  private async createLocked(idOrName: string, snapshot: string, options: SnapshotOptions): Promise<SnapshotView> {
    const record = this.workspaces.get(idOrName);
    if (record.state === "paused" && this.workspaces.runtimeOf(record).guestCachesWrites) {
      throw new AgentisoError("CONFLICT", `workspace ${record.name} is a paused VM: its kernel may hold writes not yet on its disk; resume it first (workspace_resume)`);
    }
    if (record.state !== "running" && record.state !== "stopped" && record.state !== "paused") {
      throw new AgentisoError("INVALID_STATE", `workspace ${record.name} is ${record.state}: snapshots need a running, paused or stopped workspace`);
    }
    if (this.db.listSnapshots(record.id).some((s) => s.name === snapshot)) {
      throw new AgentisoError("CONFLICT", `workspace ${record.name} already has a snapshot ${snapshot}: choose another name or delete it first`);
    }
    if (options.includeMemory) {
      const { info, memory } = await this.memory.capture(record, snapshot, this.db.listSnapshots(record.id));
      return this.recorded(record, { workspaceId: record.id, name: snapshot, createdAt: info.createdAt, memory });
    }
    if (record.state === "running" && this.workspaces.runtimeOf(record).guestCachesWrites) {
      await this.deps.guests.syncDisk(await this.workspaces.guest(record.id));
    }
    const info = await this.deps.storage.snapshot(record.id, snapshot);
    return this.recorded(record, { workspaceId: record.id, name: snapshot, createdAt: info.createdAt });
  }

  private recorded(record: WorkspaceRecord, row: SnapshotRecord): SnapshotView {
    this.db.insertSnapshot(row);
    return view(record, row, []);
  }

  list(idOrName: string): SnapshotView[] {
    const record = this.workspaces.get(idOrName);
    return this.db.listSnapshots(record.id).map((s) => view(record, s, this.forksOf(record.id, s.name).map((f) => f.name)));
  }

  // Rolls the workspace back; a running workspace is stopped and started around the restore
  // (resuming the saved machine of a memory snapshot; a stopped one stays stopped).
  async restore(idOrName: string, snapshot: string): Promise<WorkspaceRecord> {
    const record = this.workspaces.get(idOrName);
    const row = this.requireSnapshot(record, snapshot);
    const wasRunning = record.state === "running" || record.state === "paused"; // a paused one comes back running
    await this.pool?.dropForks(record.id); // zfs rolls back only a snapshot without clones
    if (wasRunning) await this.workspaces.stop(record.id);
    await this.deps.storage.restore(record.id, snapshot);
    if (!this.deps.storage.capabilities.restoreKeepsLaterSnapshots) await this.forgetVanishedSnapshots(record.id);
    return wasRunning ? this.workspaces.start(record.id, await this.memory.resumable(record, row, record)) : this.workspaces.get(record.id);
  }

  async delete(idOrName: string, snapshot: string): Promise<void> {
    await this.lock.run([this.workspaces.get(idOrName).id], () => this.deleteLocked(idOrName, snapshot));
  }

  private async deleteLocked(idOrName: string, snapshot: string): Promise<void> {
    const record = this.workspaces.get(idOrName);
    this.requireSnapshot(record, snapshot);
    await this.pool?.dropForks(record.id, snapshot);
    const forks = this.forksOf(record.id, snapshot);
    if (forks.length > 0) {
      throw new AgentisoError("CONFLICT", `snapshot ${snapshot} of ${record.name} has forks (${forks.map((f) => f.name).join(", ")}): destroy them first`, {
        details: { forks: forks.map((f) => f.name) },
      });
    }
    await this.deps.storage.deleteSnapshot(record.id, snapshot);
    this.db.deleteSnapshot(record.id, snapshot);
    await this.memory.remove(record.id, snapshot);
    await this.pool?.dropForks(record.id, snapshot); // one a fork begun meanwhile pooled: a new snapshot of this name must not get it
  }

  // Forks `count` workspaces from a snapshot in parallel. All-or-nothing: if one fails, the
  // others are destroyed and the first error is thrown.
  async fork(idOrName: string, options: ForkOptions): Promise<WorkspaceRecord[]> {
    const origin = this.workspaces.get(idOrName);
    const snapshot = this.requireSnapshot(origin, options.snapshot);
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MAX_FORK_COUNT) {
      throw new AgentisoError("INVALID_INPUT", `count must be a whole number from 1 to ${MAX_FORK_COUNT}, got ${count}`);
    }
    if (options.namePrefix !== undefined) assertValidName(options.namePrefix, "name prefix");
    const names = Array.from({ length: count }, (_, i) => forkName(options, i, count));
    const pooled = (await this.pool?.claimForks(origin, options, names)) ?? [];
    const fresh = names.slice(pooled.length).map((name) => this.forkOne(origin, snapshot, options, name));
    const results = [...pooled.map((w) => ({ status: "fulfilled" as const, value: w })), ...(await Promise.allSettled(fresh))];
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    const created = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    if (failure) {
      await Promise.allSettled(created.map((w) => this.workspaces.destroy(w.id)));
      throw failure.reason;
    }
    return created;
  }

  private async forkOne(origin: WorkspaceRecord, snapshot: SnapshotRecord, options: ForkOptions, name: string | undefined): Promise<WorkspaceRecord> {
    const started = performance.now();
    const lineage = { workspace: origin.name, workspaceId: origin.id, snapshot: options.snapshot };
    const record = this.workspaces.newRecord({ ...options, name }, lineage, origin);
    this.db.insertWorkspace(record);
    this.deps.logger.info("workspace fork started", { workspace: record.id, name: record.name, origin: origin.id, snapshot: options.snapshot });
    try {
      await this.deps.storage.forkWorkspace(record.id, { from: origin.id, snapshot: options.snapshot, ...this.workspaces.quotaFor(record), signal: options.signal });
      const storageMs = performance.now() - started;
      const running = await this.workspaces.boot(record, await this.memory.resumable(origin, snapshot, record));
      const durationMs = performance.now() - started;
      if (options.owner !== POOL_OWNER) this.deps.events?.workspaceForked?.({ durationMs });
      this.deps.logger.info("workspace forked", { workspace: record.id, storageMs: Math.round(storageMs), totalMs: Math.round(durationMs) });
      return running;
    } catch (err) {
      await this.workspaces.discard(record);
      throw err;
    }
  }

  // The workspaces forked from this snapshot, not counting pooled forks (dropped before it changes).
  private forksOf(workspaceId: string, snapshot: string): WorkspaceRecord[] {
    return this.db.forksOf(workspaceId, snapshot).filter((f) => f.owner !== POOL_OWNER);
  }

  // zfs rollback destroys the snapshots taken after the one restored: drop their rows too.
  private async forgetVanishedSnapshots(workspaceId: string): Promise<void> {
    const present = new Set((await this.deps.storage.listSnapshots(workspaceId)).map((s) => s.name));
    for (const row of this.db.listSnapshots(workspaceId)) {
      if (present.has(row.name)) continue;
      this.db.deleteSnapshot(workspaceId, row.name);
      await this.memory.remove(workspaceId, row.name);
    }
  }

  private requireSnapshot(record: WorkspaceRecord, snapshot: string): SnapshotRecord {
    const row = this.db.listSnapshots(record.id).find((s) => s.name === snapshot);
    if (!row) throw new AgentisoError("NOT_FOUND", `workspace ${record.name} has no snapshot ${JSON.stringify(snapshot)} (see \`agentiso workspace snapshots ${record.name}\`)`);
    return row;
  }
}

// What callers see of a snapshot: its memory file's size, not the machine it fits.
function view(record: WorkspaceRecord, row: SnapshotRecord, dependents: string[]): SnapshotView {
  const { memory, ...rest } = row;
  return { ...rest, ...(memory && { memoryBytes: memory.sizeBytes }), workspace: record.name, dependents };
}

function forkName(options: ForkOptions, index: number, count: number): string | undefined {
  if (options.name !== undefined && count === 1) return options.name;
  const prefix = options.namePrefix ?? options.name;
  return prefix === undefined ? undefined : `${prefix}-${index + 1}`;
}
