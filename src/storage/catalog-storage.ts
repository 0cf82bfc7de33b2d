// What every driver does the same way — name validation, the catalog of bases, workspaces,
// snapshots and lineage, and the refusals (CONFLICT while something depends on a volume) —
// written once. A driver extends this class and implements only the volume operations of its
// backend (btrfs subvolumes, zfs datasets, overlay directories).
import { AgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { assertValidName } from "../core/names.js";
import { assertSourceExists } from "./base-import.js";
import { KeyedLock } from "../core/keyed-lock.js";
import { VolumeCatalog, type BaseRecord, type WorkspaceRecord } from "./volume-catalog.js";
import type {
  BaseInfo, BaseSource, DiskUsage, RootfsHandle, SnapshotInfo, StorageCapabilities, StorageDriver, StorageKind, VolumeLayout, WorkspaceVolumeInfo,
} from "./storage-driver.js";

export abstract class CatalogStorage implements StorageDriver {
  abstract readonly kind: StorageKind;
  abstract readonly capabilities: StorageCapabilities;
  protected readonly lock = new KeyedLock();
  private catalogOrUndefined: VolumeCatalog | undefined;
  constructor(protected readonly logger: Logger) {}
  /** Attaches the backend (pool, mounts) idempotently and returns the catalog directory. */
  protected abstract prepare(signal?: AbortSignal): Promise<string>;
  protected abstract release(): Promise<void>;
  /** Fills the base volume `name`; returns its size in bytes. */
  protected abstract createBase(name: string, source: BaseSource, layout: VolumeLayout, signal?: AbortSignal): Promise<number>;
  protected abstract removeBase(base: BaseRecord): Promise<void>;
  /** May record driver facts in ws.backend; must leave nothing behind when it throws. */
  protected abstract cloneBase(ws: WorkspaceRecord, base: BaseRecord, signal?: AbortSignal, quotaBytes?: number): Promise<void>;
  protected abstract cloneSnapshot(ws: WorkspaceRecord, origin: WorkspaceRecord, snapshot: string, signal?: AbortSignal, quotaBytes?: number): Promise<void>; // quotaBytes: see appliesQuotaAtClone
  protected abstract takeSnapshot(ws: WorkspaceRecord, snapshot: string): Promise<void>;
  protected abstract removeSnapshot(ws: WorkspaceRecord, snapshot: string): Promise<void>;
  /** Must re-apply ws.quotaBytes if the backend loses it. */
  protected abstract rollback(ws: WorkspaceRecord, snapshot: string): Promise<void>;
  /** Removes the live volume and all its snapshots. */
  protected abstract removeWorkspace(ws: WorkspaceRecord): Promise<void>;
  protected abstract applyQuota(ws: WorkspaceRecord, quotaBytes: number | undefined): Promise<void>;
  protected abstract measure(ws: WorkspaceRecord): Promise<DiskUsage>;
  abstract usageOfAll(): Promise<Map<string, number>>;
  protected abstract snapshotSizes(ws: WorkspaceRecord): Promise<Map<string, number>>;
  protected abstract handle(ws: WorkspaceRecord): Promise<RootfsHandle>;
  // Idempotent: attach the backend, then open the catalog stored inside it.
  async setup(signal?: AbortSignal): Promise<void> {
    const catalog = new VolumeCatalog(await this.prepare(signal));
    await catalog.init();
    this.catalogOrUndefined = catalog;
  }

  // Detaches what setup attached; the data stays on disk.
  async close(): Promise<void> {
    this.catalogOrUndefined = undefined;
    await this.release();
  }

  protected get catalog(): VolumeCatalog {
    if (!this.catalogOrUndefined) {
      throw new AgentisoError("INVALID_STATE", `${this.kind} storage is not set up: run \`agentiso init\` (StorageDriver.setup())`);
    }
    return this.catalogOrUndefined;
  }

  // Imports an image as an immutable base; CONFLICT if the name is taken.
  async importBase(name: string, source: BaseSource, options: { layout?: VolumeLayout; signal?: AbortSignal } = {}): Promise<BaseInfo> {
    assertValidName(name, "base name");
    const layout = options.layout ?? (source.kind === "disk-image" ? "block" : "directory");
    if (layout === "block" && !this.capabilities.blockVolumes) {
      throw new AgentisoError("UNSUPPORTED", `${this.kind} storage here cannot hold block volumes for VMs`);
    }
    await assertSourceExists(source);
    return this.lock.run([`base:${name}`], async () => {
      if (await this.catalog.getBase(name)) throw new AgentisoError("CONFLICT", `base ${JSON.stringify(name)} already exists`);
      const sizeBytes = await this.createBase(name, source, layout, options.signal);
      const record: BaseRecord = { name, layout, sizeBytes, createdAt: new Date().toISOString() };
      await this.catalog.putBase(record);
      return { ...record };
    });
  }

  async listBases(): Promise<BaseInfo[]> {
    return (await this.catalog.listBases()).map((b) => ({ ...b }));
  }

  // Refused with CONFLICT naming the workspaces still cloned from the base.
  async deleteBase(name: string): Promise<void> {
    assertValidName(name, "base name");
    await this.lock.run([`base:${name}`], async () => {
      const base = await this.catalog.requireBase(name);
      const users = (await this.catalog.listWorkspaces()).filter((w) => w.base === name).map((w) => w.name);
      if (users.length > 0) {
        throw new AgentisoError("CONFLICT", `base ${JSON.stringify(name)} is used by workspaces ${users.join(", ")}: destroy them first`, { details: { dependents: users } });
      }
      await this.removeBase(base);
      await this.catalog.deleteBase(name);
    });
  }

  // Clones a base into a new writable workspace (copy-on-write where the backend can).
  async createWorkspace(name: string, options: { base: string; quotaBytes?: number; signal?: AbortSignal }): Promise<WorkspaceVolumeInfo> {
    assertValidName(name, "workspace name");
    assertValidName(options.base, "base name");
    this.checkQuotaBytes(options.quotaBytes);
    return this.lock.run([`ws:${name}`], async () => {
      await this.assertWorkspaceFree(name);
      const base = await this.catalog.requireBase(options.base);
      const record = newRecord(name, base.layout, base.name);
      await this.cloneBase(record, base, options.signal, options.quotaBytes);
      return this.finishNewWorkspace(record, options.quotaBytes);
    });
  }

  // Clones workspace@snapshot into a new workspace and records the lineage on disk.
  async forkWorkspace(name: string, options: { from: string; snapshot: string; quotaBytes?: number; signal?: AbortSignal }): Promise<WorkspaceVolumeInfo> {
    assertValidName(name, "workspace name");
    assertValidName(options.from, "workspace name");
    assertValidName(options.snapshot, "snapshot name");
    this.checkQuotaBytes(options.quotaBytes);
    return this.lock.run([`ws:${name}`], async () => {
      await this.assertWorkspaceFree(name);
      const origin = await this.catalog.requireWorkspace(options.from);
      requireSnapshot(origin, options.snapshot);
      const record = newRecord(name, origin.layout, origin.base);
      record.forkedFrom = { workspace: origin.name, snapshot: options.snapshot };
      await this.cloneSnapshot(record, origin, options.snapshot, options.signal, options.quotaBytes);
      return this.finishNewWorkspace(record, options.quotaBytes);
    });
  }

  // Only this tag's workspaces: everything else in the pool belongs to someone else.
  async listWorkspaces(): Promise<WorkspaceVolumeInfo[]> {
    return (await this.catalog.listWorkspaces()).map((record) => ({ ...toVolumeInfo(record), snapshots: record.snapshots.map((s) => s.name) }));
  }

  // Refused with CONFLICT naming the forks that depend on one of its snapshots.
  async destroyWorkspace(name: string): Promise<void> {
    assertValidName(name, "workspace name");
    await this.lock.run([`ws:${name}`], async () => {
      const record = await this.catalog.requireWorkspace(name);
      const forks = (await this.catalog.listWorkspaces()).filter((w) => w.forkedFrom?.workspace === name).map((w) => w.name);
      if (forks.length > 0) {
        throw new AgentisoError("CONFLICT", `workspace ${JSON.stringify(name)} has forks ${forks.join(", ")}: destroy them first`, { details: { dependents: forks } });
      }
      await this.removeWorkspace(record);
      await this.catalog.deleteWorkspace(name);
    });
  }

  // Takes a read-only snapshot; CONFLICT if the name is taken on this workspace.
  async snapshot(workspace: string, snapshot: string): Promise<SnapshotInfo> {
    assertValidName(workspace, "workspace name");
    assertValidName(snapshot, "snapshot name");
    return this.lock.run([`ws:${workspace}`], async () => {
      const record = await this.catalog.requireWorkspace(workspace);
      if (record.snapshots.some((s) => s.name === snapshot)) {
        throw new AgentisoError("CONFLICT", `workspace ${workspace} already has a snapshot ${JSON.stringify(snapshot)}`);
      }
      await this.takeSnapshot(record, snapshot);
      const createdAt = new Date().toISOString();
      record.snapshots.push({ name: snapshot, createdAt });
      await this.catalog.putWorkspace(record);
      return { workspace, name: snapshot, createdAt, dependents: [] };
    });
  }

  // Snapshots oldest first, with their exclusive sizes and the forks that depend on them.
  async listSnapshots(workspace: string): Promise<SnapshotInfo[]> {
    assertValidName(workspace, "workspace name");
    const record = await this.catalog.requireWorkspace(workspace);
    const [sizes, all] = await Promise.all([this.snapshotSizes(record), this.catalog.listWorkspaces()]);
    return record.snapshots.map((s) => ({
      workspace,
      name: s.name,
      createdAt: s.createdAt,
      ...(sizes.has(s.name) ? { exclusiveBytes: sizes.get(s.name)! } : {}),
      dependents: dependentsOf(all, workspace, s.name),
    }));
  }

  // Rolls back to the snapshot; where the backend drops later snapshots, refuses if they have forks.
  async restore(workspace: string, snapshot: string): Promise<void> {
    assertValidName(workspace, "workspace name");
    assertValidName(snapshot, "snapshot name");
    await this.lock.run([`ws:${workspace}`], async () => {
      const record = await this.catalog.requireWorkspace(workspace);
      const index = record.snapshots.findIndex((s) => s.name === requireSnapshot(record, snapshot));
      const later = this.capabilities.restoreKeepsLaterSnapshots ? [] : record.snapshots.slice(index + 1).map((s) => s.name);
      const all = await this.catalog.listWorkspaces();
      const blocked = later.flatMap((s) => dependentsOf(all, workspace, s));
      if (blocked.length > 0) {
        throw new AgentisoError("CONFLICT", `restoring ${workspace} to ${snapshot} would destroy later snapshots that forks ${blocked.join(", ")} depend on`, { details: { dependents: blocked } });
      }
      await this.rollback(record, snapshot);
      record.snapshots = record.snapshots.filter((s) => !later.includes(s.name));
      await this.catalog.putWorkspace(record);
    });
  }

  // Refused with CONFLICT naming the forks cloned from this snapshot.
  async deleteSnapshot(workspace: string, snapshot: string): Promise<void> {
    assertValidName(workspace, "workspace name");
    assertValidName(snapshot, "snapshot name");
    await this.lock.run([`ws:${workspace}`], async () => {
      const record = await this.catalog.requireWorkspace(workspace);
      requireSnapshot(record, snapshot);
      const forks = dependentsOf(await this.catalog.listWorkspaces(), workspace, snapshot);
      if (forks.length > 0) {
        throw new AgentisoError("CONFLICT", `snapshot ${workspace}@${snapshot} has forks ${forks.join(", ")}: destroy them first`, { details: { dependents: forks } });
      }
      await this.removeSnapshot(record, snapshot);
      record.snapshots = record.snapshots.filter((s) => s.name !== snapshot);
      await this.catalog.putWorkspace(record);
    });
  }

  async usage(workspace: string): Promise<DiskUsage> {
    assertValidName(workspace, "workspace name");
    return this.measure(await this.catalog.requireWorkspace(workspace));
  }

  // Sets or clears (undefined) the workspace's limit; UNSUPPORTED where the backend has none.
  async setQuota(workspace: string, quotaBytes: number | undefined): Promise<void> {
    assertValidName(workspace, "workspace name");
    this.checkQuotaBytes(quotaBytes);
    if (!this.capabilities.quotas) throw new AgentisoError("UNSUPPORTED", `${this.kind} storage cannot enforce disk quotas`);
    await this.lock.run([`ws:${workspace}`], async () => {
      const record = await this.catalog.requireWorkspace(workspace);
      await this.applyQuota(record, quotaBytes);
      if (quotaBytes === undefined) delete record.quotaBytes;
      else record.quotaBytes = quotaBytes;
      await this.catalog.putWorkspace(record);
    });
  }

  async rootfs(workspace: string): Promise<RootfsHandle> {
    assertValidName(workspace, "workspace name");
    return this.handle(await this.catalog.requireWorkspace(workspace));
  }

  private checkQuotaBytes(quotaBytes: number | undefined): void {
    if (quotaBytes === undefined) return;
    if (!Number.isSafeInteger(quotaBytes) || quotaBytes <= 0) {
      throw new AgentisoError("INVALID_INPUT", `quotaBytes must be a positive whole number of bytes, got ${quotaBytes}`);
    }
    if (!this.capabilities.quotas) throw new AgentisoError("UNSUPPORTED", `${this.kind} storage cannot enforce disk quotas`);
  }

  private async assertWorkspaceFree(name: string): Promise<void> {
    if (await this.catalog.getWorkspace(name)) throw new AgentisoError("CONFLICT", `workspace volume ${JSON.stringify(name)} already exists`);
  }

  /** Whether the clone of this new workspace set its quota already (btrfs: in the snapshot's own step, one spawn fewer per fork). */
  protected appliesQuotaAtClone(_ws: WorkspaceRecord): boolean {
    return false;
  }

  private async finishNewWorkspace(record: WorkspaceRecord, quotaBytes: number | undefined): Promise<WorkspaceVolumeInfo> {
    try {
      if (quotaBytes !== undefined) {
        if (!this.appliesQuotaAtClone(record)) await this.applyQuota(record, quotaBytes);
        record.quotaBytes = quotaBytes;
      }
      await this.catalog.putWorkspace(record);
    } catch (err) {
      await this.removeWorkspace(record).catch((cleanupErr: unknown) => this.logger.warn("workspace cleanup failed", { workspace: record.name, err: cleanupErr }));
      throw err;
    }
    return toVolumeInfo(record);
  }
}

function newRecord(name: string, layout: VolumeLayout, base: string): WorkspaceRecord {
  return { name, layout, base, createdAt: new Date().toISOString(), snapshots: [] };
}

function requireSnapshot(record: WorkspaceRecord, snapshot: string): string {
  if (!record.snapshots.some((s) => s.name === snapshot)) {
    throw new AgentisoError("NOT_FOUND", `workspace ${record.name} has no snapshot ${JSON.stringify(snapshot)}`);
  }
  return snapshot;
}

function dependentsOf(all: readonly WorkspaceRecord[], workspace: string, snapshot: string): string[] {
  return all.filter((w) => w.forkedFrom?.workspace === workspace && w.forkedFrom.snapshot === snapshot).map((w) => w.name);
}

function toVolumeInfo(record: WorkspaceRecord): WorkspaceVolumeInfo {
  return {
    name: record.name,
    layout: record.layout,
    base: record.base,
    ...(record.forkedFrom ? { forkedFrom: { ...record.forkedFrom } } : {}),
    ...(record.quotaBytes !== undefined ? { quotaBytes: record.quotaBytes } : {}),
  };
}
