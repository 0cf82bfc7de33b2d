// An in-memory StorageDriver for fast engine unit tests: volumes are Maps of path -> content.
// Real drivers are tested by the storage contract suite; this one only has to keep the rules.
import { AgentisoError } from "../../src/core/errors.js";
import { assertValidName } from "../../src/core/names.js";
import type {
  BaseInfo,
  RootfsHandle,
  SnapshotInfo,
  StorageDriver,
  WorkspaceVolumeInfo,
  DiskUsage,
} from "../../src/storage/storage-driver.js";

interface Volume {
  info: WorkspaceVolumeInfo;
  files: Map<string, string>;
  snapshots: Map<string, { files: Map<string, string>; createdAt: string }>;
}

export class FakeStorage implements StorageDriver {
  readonly kind = "btrfs" as const;
  readonly capabilities = { blockVolumes: false, quotas: true, constantTimeFork: true, restoreKeepsLaterSnapshots: true };
  readonly bases = new Map<string, BaseInfo>();
  readonly volumes = new Map<string, Volume>();
  failNextFork = false;

  async setup(): Promise<void> {}
  async close(): Promise<void> {}

  async importBase(name: string): Promise<BaseInfo> {
    const info: BaseInfo = { name: assertValidName(name), layout: "directory", sizeBytes: 0, createdAt: new Date().toISOString() };
    this.bases.set(name, info);
    return info;
  }
  async listBases(): Promise<BaseInfo[]> {
    return [...this.bases.values()];
  }
  async deleteBase(name: string): Promise<void> {
    this.bases.delete(name);
  }

  async createWorkspace(name: string, options: { base: string; quotaBytes?: number }): Promise<WorkspaceVolumeInfo> {
    if (!this.bases.has(options.base)) throw new AgentisoError("NOT_FOUND", `no base ${options.base}`);
    return this.add(name, { name, layout: "directory", base: options.base }, new Map());
  }

  async forkWorkspace(name: string, options: { from: string; snapshot: string }): Promise<WorkspaceVolumeInfo> {
    if (this.failNextFork) {
      this.failNextFork = false;
      throw new AgentisoError("BACKEND_FAILED", "injected fork failure");
    }
    const origin = this.volume(options.from);
    const snap = origin.snapshots.get(options.snapshot);
    if (!snap) throw new AgentisoError("NOT_FOUND", `no snapshot ${options.snapshot}`);
    const info = { name, layout: "directory" as const, base: origin.info.base, forkedFrom: { workspace: options.from, snapshot: options.snapshot } };
    return this.add(name, info, new Map(snap.files));
  }

  async listWorkspaces(): Promise<WorkspaceVolumeInfo[]> {
    return [...this.volumes.values()].map((v) => ({ ...v.info, snapshots: [...v.snapshots.keys()] }));
  }

  async destroyWorkspace(name: string): Promise<void> {
    this.volume(name);
    const dependents = [...this.volumes.values()].filter((v) => v.info.forkedFrom?.workspace === name);
    if (dependents.length) throw new AgentisoError("CONFLICT", `${name} has forks`);
    this.volumes.delete(name);
  }

  async snapshot(workspace: string, snapshot: string): Promise<SnapshotInfo> {
    const volume = this.volume(workspace);
    if (volume.snapshots.has(snapshot)) throw new AgentisoError("CONFLICT", `workspace ${workspace} already has a snapshot ${JSON.stringify(snapshot)}`);
    const createdAt = new Date().toISOString();
    volume.snapshots.set(assertValidName(snapshot), { files: new Map(volume.files), createdAt });
    return { workspace, name: snapshot, createdAt, dependents: [] };
  }
  async listSnapshots(workspace: string): Promise<SnapshotInfo[]> {
    return [...this.volume(workspace).snapshots.entries()].map(([name, s]) => ({ workspace, name, createdAt: s.createdAt, dependents: [] }));
  }
  async restore(workspace: string, snapshot: string): Promise<void> {
    const volume = this.volume(workspace);
    volume.files = new Map(volume.snapshots.get(snapshot)!.files);
  }
  async deleteSnapshot(workspace: string, snapshot: string): Promise<void> {
    this.volume(workspace).snapshots.delete(snapshot);
  }
  async usage(): Promise<DiskUsage> {
    return { usedBytes: 0 };
  }
  async usageOfAll(): Promise<Map<string, number>> {
    return new Map();
  }
  async setQuota(): Promise<void> {}
  async rootfs(workspace: string): Promise<RootfsHandle> {
    this.volume(workspace);
    return { kind: "directory", path: `/fake/${workspace}` };
  }

  private add(name: string, info: WorkspaceVolumeInfo, files: Map<string, string>): WorkspaceVolumeInfo {
    assertValidName(name);
    if (this.volumes.has(name)) throw new AgentisoError("CONFLICT", `volume ${name} exists`);
    this.volumes.set(name, { info, files, snapshots: new Map() });
    return info;
  }

  volume(name: string): Volume {
    const volume = this.volumes.get(name);
    if (!volume) throw new AgentisoError("NOT_FOUND", `no volume ${name}`);
    return volume;
  }
}
