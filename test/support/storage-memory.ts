// An in-memory StorageDriver for fast unit tests (of the engine, or of the shared catalog logic):
// the real CatalogStorage bookkeeping over a fake backend that only remembers which volumes
// exist. The catalog itself is real JSON on disk, in a directory the caller owns.
import { CatalogStorage } from "../../src/storage/catalog-storage.js";
import { silentLogger } from "../../src/core/logger.js";
import type { DiskUsage, RootfsHandle, StorageCapabilities, StorageKind } from "../../src/storage/storage-driver.js";
import type { BaseRecord, WorkspaceRecord } from "../../src/storage/volume-catalog.js";

export class MemoryStorage extends CatalogStorage {
  readonly kind: StorageKind = "overlay";
  readonly capabilities: StorageCapabilities;
  /** Live volumes by name: "base:x", "ws:y", "snap:y@s". */
  readonly volumes = new Set<string>();
  readonly quotas = new Map<string, number | undefined>();

  constructor(
    private readonly catalogDir: string,
    capabilities: Partial<StorageCapabilities> = {},
  ) {
    super(silentLogger);
    this.capabilities = { blockVolumes: true, quotas: true, constantTimeFork: true, restoreKeepsLaterSnapshots: true, ...capabilities };
  }

  protected prepare(): Promise<string> {
    return Promise.resolve(this.catalogDir);
  }
  protected release(): Promise<void> {
    return Promise.resolve();
  }
  protected createBase(name: string): Promise<number> {
    this.volumes.add(`base:${name}`);
    return Promise.resolve(1);
  }
  protected removeBase(base: BaseRecord): Promise<void> {
    this.volumes.delete(`base:${base.name}`);
    return Promise.resolve();
  }
  protected cloneBase(ws: WorkspaceRecord): Promise<void> {
    this.volumes.add(`ws:${ws.name}`);
    return Promise.resolve();
  }
  protected cloneSnapshot(ws: WorkspaceRecord): Promise<void> {
    this.volumes.add(`ws:${ws.name}`);
    return Promise.resolve();
  }
  protected takeSnapshot(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    this.volumes.add(`snap:${ws.name}@${snapshot}`);
    return Promise.resolve();
  }
  protected removeSnapshot(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    this.volumes.delete(`snap:${ws.name}@${snapshot}`);
    return Promise.resolve();
  }
  protected rollback(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    if (!this.capabilities.restoreKeepsLaterSnapshots) {
      const index = ws.snapshots.findIndex((s) => s.name === snapshot);
      for (const later of ws.snapshots.slice(index + 1)) this.volumes.delete(`snap:${ws.name}@${later.name}`);
    }
    return Promise.resolve();
  }
  protected removeWorkspace(ws: WorkspaceRecord): Promise<void> {
    this.volumes.delete(`ws:${ws.name}`);
    for (const s of ws.snapshots) this.volumes.delete(`snap:${ws.name}@${s.name}`);
    return Promise.resolve();
  }
  protected applyQuota(ws: WorkspaceRecord, quotaBytes: number | undefined): Promise<void> {
    this.quotas.set(ws.name, quotaBytes);
    return Promise.resolve();
  }
  protected measure(ws: WorkspaceRecord): Promise<DiskUsage> {
    return Promise.resolve({ usedBytes: 0, ...(ws.quotaBytes !== undefined ? { quotaBytes: ws.quotaBytes } : {}) });
  }
  usageOfAll(): Promise<Map<string, number>> {
    return Promise.resolve(new Map());
  }
  protected snapshotSizes(): Promise<Map<string, number>> {
    return Promise.resolve(new Map());
  }
  protected handle(ws: WorkspaceRecord): Promise<RootfsHandle> {
    return Promise.resolve(ws.layout === "block" ? { kind: "block", path: `/memory/${ws.name}.raw`, format: "raw" } : { kind: "directory", path: `/memory/${ws.name}` });
  }
}
