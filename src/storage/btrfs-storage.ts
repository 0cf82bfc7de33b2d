// btrfs driver: bases are read-only subvolumes, workspaces are writable snapshots of them,
// snapshots are read-only snapshots of workspaces and forks are writable snapshots of those —
// every clone is one constant-time `btrfs subvolume snapshot`. VM workspaces are a raw disk
// image inside the subvolume (CoW through the snapshot).
//
// Quotas. On a pool with simple quotas (the loop pool on kernel >= 6.7, see pool.ts) each
// workspace has a level-1 qgroup of its own, created with its live subvolume, that every
// snapshot of it joins at creation (`snapshot -i`), and the limit is on that group: a workspace
// pays for every byte it wrote for as long as anything (its live volume, its snapshots, a fork
// of them) keeps it, so "write, snapshot, delete, write again" stops at the limit (EDQUOT
// inside) instead of filling the pool. On a pool with classic ("full") qgroups the limit is the
// live subvolume's exclusive bytes, as before: joining a group there would stop all accounting
// until a rescan (the new subvolume shares data outside the group), so snapshots stay uncounted.
//
// On disk, under <pool>/<tag prefix>/:  bases/<b>  workspaces/<w>  snapshots/<w>/<s>  catalog/
import { randomInt } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, statfs, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { ResourceTag } from "../core/resource-tag.js";
import { restrictToWorkspaces } from "../core/state-dir.js";
import { buildDiskImage, directorySizeBytes, populateDirectory } from "./base-import.js";
import {
  createSubvolume,
  deleteSubvolumes,
  destroyQgroups,
  limitExclusive,
  limitQgroup,
  qgroupUsageAll,
  qgroupUsageById,
  qgroupUsageByPath,
  quotaMode,
  setReadOnly,
  snapshotSubvolume,
  syncFilesystem,
  type QuotaMode,
} from "./btrfs-cli.js";
import { CatalogStorage } from "./catalog-storage.js";
import { hasSafeFlags, readMounts } from "./mount-table.js";
import { BtrfsLoopPool } from "./pool.js";
import type { BaseSource, DiskUsage, RootfsHandle, StorageCapabilities, VolumeLayout } from "./storage-driver.js";
import type { BaseRecord, WorkspaceRecord } from "./volume-catalog.js";

export interface BtrfsStorageOptions {
  stateDir: string;
  tag: ResourceTag;
  logger: Logger;
  /** A mounted btrfs filesystem to use. Unset: a loop-file pool under stateDir (see pool.ts). */
  poolDir?: string;
  /** Apparent size of the loop file when one is created. */
  loopPoolSizeBytes?: number;
  /** The workspaces' host gid: our folder in the pool becomes 0710 root:<gid>, closed to every other local user. */
  workspaceGid?: number;
}

const BTRFS_SUPER_MAGIC = 0x9123683e;
const DISK_IMAGE = "disk.raw";
/** Level-1 qgroups of destroyed workspaces that still had members (the cleaner drops subvolumes later). */
const STALE_QGROUPS = "stale-qgroups.json";

export class BtrfsStorage extends CatalogStorage {
  readonly kind = "btrfs" as const;
  readonly capabilities: StorageCapabilities = { blockVolumes: true, quotas: true, constantTimeFork: true, restoreKeepsLaterSnapshots: true };
  readonly loopPool: BtrfsLoopPool | undefined;
  private root = "";
  private quotas: QuotaMode = "off";

  constructor(private readonly options: BtrfsStorageOptions) {
    super(options.logger.child({ storage: "btrfs" }));
    this.loopPool = options.poolDir
      ? undefined
      : new BtrfsLoopPool({ stateDir: options.stateDir, tag: options.tag, logger: options.logger, sizeBytes: options.loopPoolSizeBytes });
  }

  protected async prepare(signal?: AbortSignal): Promise<string> {
    const poolDir = this.loopPool ? (await this.loopPool.setup(signal)).mountPoint : await checkBtrfs(this.options.poolDir!, this.logger);
    this.root = join(poolDir, this.options.tag.prefix);
    for (const dir of ["bases", "workspaces", "snapshots", "scratch"]) await mkdir(join(this.root, dir), { recursive: true });
    if (this.options.workspaceGid !== undefined) restrictToWorkspaces(this.root, this.options.workspaceGid);
    this.quotas = await quotaMode(poolDir);
    this.capabilities.quotaCoversSnapshots = this.quotas === "simple";
    if (this.quotas !== "simple") {
      this.logger.warn("the btrfs pool has no simple quotas: a workspace's snapshots are not counted against its disk limit (recreate the pool on kernel 6.7+, or `btrfs quota enable --simple` on a fresh one)", { poolDir, quotas: this.quotas });
    }
    await this.destroyStaleQgroups();
    return join(this.root, "catalog");
  }

  protected async release(): Promise<void> {
    await this.loopPool?.detach();
  }

  protected async createBase(name: string, source: BaseSource, layout: VolumeLayout, signal?: AbortSignal): Promise<number> {
    const path = this.basePath(name);
    await createSubvolume(path, signal);
    try {
      if (layout === "directory") await populateDirectory(source, path, signal);
      else await buildDiskImage(source, join(path, DISK_IMAGE), join(this.root, "scratch"), signal);
      await setReadOnly(path);
      return layout === "directory" ? await directorySizeBytes(path) : (await stat(join(path, DISK_IMAGE))).size;
    } catch (err) {
      await deleteSubvolumes([path]).catch(() => undefined);
      throw err;
    }
  }

  protected async removeBase(base: BaseRecord): Promise<void> {
    await deleteSubvolumes([this.basePath(base.name)]);
  }

  protected async cloneBase(ws: WorkspaceRecord, base: BaseRecord, signal?: AbortSignal, quotaBytes?: number): Promise<void> {
    await this.cloneInNewGroup(ws, this.basePath(base.name), signal, quotaBytes);
  }

  protected async cloneSnapshot(ws: WorkspaceRecord, origin: WorkspaceRecord, snapshot: string, signal?: AbortSignal, quotaBytes?: number): Promise<void> {
    await this.cloneInNewGroup(ws, this.snapshotPath(origin.name, snapshot), signal, quotaBytes);
  }

  // A group made by the clone got its limit there too (the batch's `qgroup limit`, beside the snapshot).
  protected override appliesQuotaAtClone(ws: WorkspaceRecord): boolean {
    return qgroupOf(ws) !== undefined;
  }

  // The live volume, in a level-1 qgroup of its own created, and limited, in the same step (simple quotas).
  private async cloneInNewGroup(ws: WorkspaceRecord, source: string, signal?: AbortSignal, quotaBytes?: number): Promise<void> {
    // 47 random bits: two engines sharing a pool never pick the same id (creation would fail, not merge)
    const qgroup = this.quotas === "simple" ? `1/${randomInt(1, 2 ** 47)}` : undefined;
    if (qgroup) ws.backend = { ...ws.backend, qgroup };
    const target = this.workspacePath(ws.name);
    try {
      await snapshotSubvolume(source, target, { readOnly: false, signal, ...(qgroup && { qgroup, createQgroup: true, limitBytes: quotaBytes }) });
    } catch (err) {
      // the snapshot may exist when only the limit failed
      await deleteSubvolumes(await filterExisting([target])).catch(() => undefined);
      if (qgroup) await this.dropQgroup(qgroup).catch(() => undefined);
      throw err;
    }
  }

  protected async takeSnapshot(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    await mkdir(join(this.root, "snapshots", ws.name), { recursive: true });
    const qgroup = qgroupOf(ws);
    await snapshotSubvolume(this.workspacePath(ws.name), this.snapshotPath(ws.name, snapshot), { readOnly: true, ...(qgroup && { qgroup }) });
  }

  protected async removeSnapshot(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    await deleteSubvolumes([this.snapshotPath(ws.name, snapshot)]);
  }

  // Snapshot the snapshot beside the live volume, then swap: a crash never loses both.
  protected async rollback(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    const live = this.workspacePath(ws.name);
    const incoming = `${live}.restoring`;
    const outgoing = `${live}.discarded`;
    const qgroup = qgroupOf(ws);
    await snapshotSubvolume(this.snapshotPath(ws.name, snapshot), incoming, { readOnly: false, ...(qgroup && { qgroup }) });
    await rename(live, outgoing);
    await rename(incoming, live);
    await deleteSubvolumes([outgoing]);
    // a group keeps its limit; a subvolume's limit goes with the subvolume
    if (ws.quotaBytes !== undefined && !qgroup) await limitExclusive(live, ws.quotaBytes);
  }

  protected async removeWorkspace(ws: WorkspaceRecord): Promise<void> {
    const snapshots = ws.snapshots.map((s) => this.snapshotPath(ws.name, s.name));
    const existing = await filterExisting([...snapshots, this.workspacePath(ws.name)]);
    await deleteSubvolumes(existing);
    await rm(join(this.root, "snapshots", ws.name), { recursive: true, force: true });
    const qgroup = qgroupOf(ws);
    if (qgroup) await this.dropQgroup(qgroup);
  }

  protected async applyQuota(ws: WorkspaceRecord, quotaBytes: number | undefined): Promise<void> {
    const qgroup = qgroupOf(ws);
    if (qgroup) await limitQgroup(qgroup, quotaBytes, this.root);
    else await limitExclusive(this.workspacePath(ws.name), quotaBytes);
  }

  // What the quota limits (the group's bytes: live and snapshots; else the live volume's exclusive bytes), after committing recent writes.
  protected async measure(ws: WorkspaceRecord): Promise<DiskUsage> {
    await syncFilesystem(this.root);
    const qgroup = qgroupOf(ws);
    const usage = qgroup
      ? (await qgroupUsageById(this.root)).get(qgroup)
      : findUsage(await qgroupUsageByPath(this.root), join(this.options.tag.prefix, "workspaces", ws.name));
    if (!usage) throw new AgentisoError("BACKEND_FAILED", `no qgroup for workspace ${ws.name}: are quotas enabled on the pool? (btrfs quota enable)`);
    return { usedBytes: usage.exclusiveBytes, ...(ws.quotaBytes !== undefined ? { quotaBytes: ws.quotaBytes } : {}) };
  }

  // One `qgroup show` for the whole pool (the quota's own numbers, as measure() reads them); a VM's
  // disk image: its allocated size (a qgroup would count it the same, the file says it without one).
  async usageOfAll(): Promise<Map<string, number>> {
    const records = await this.catalog.listWorkspaces();
    const { byPath, byId } = await qgroupUsageAll(this.root).catch(() => ({ byPath: new Map<string, never>(), byId: new Map<string, never>() }));
    const used = new Map<string, number>();
    for (const ws of records) {
      const qgroup = qgroupOf(ws);
      const bytes = ws.layout === "block"
        ? await stat(join(this.workspacePath(ws.name), DISK_IMAGE)).then((s) => s.blocks * 512, () => undefined)
        : (qgroup ? byId.get(qgroup) : findUsage(byPath, join(this.options.tag.prefix, "workspaces", ws.name)))?.exclusiveBytes;
      if (bytes !== undefined) used.set(ws.name, bytes);
    }
    return used;
  }

  // Classic qgroups know what deleting each snapshot would free; simple quotas charge the writer
  // (the live volume), not the snapshot that keeps the bytes, so there the sizes are unknown.
  protected async snapshotSizes(ws: WorkspaceRecord): Promise<Map<string, number>> {
    if (qgroupOf(ws)) return new Map();
    const all = await qgroupUsageByPath(this.root).catch(() => new Map<string, never>());
    const sizes = new Map<string, number>();
    for (const s of ws.snapshots) {
      const usage = findUsage(all, join(this.options.tag.prefix, "snapshots", ws.name, s.name));
      if (usage) sizes.set(s.name, usage.exclusiveBytes);
    }
    return sizes;
  }

  protected handle(ws: WorkspaceRecord): Promise<RootfsHandle> {
    const path = this.workspacePath(ws.name);
    return Promise.resolve(ws.layout === "block" ? { kind: "block", path: join(path, DISK_IMAGE), format: "raw" } : { kind: "directory", path });
  }

  // Destroys a workspace's group once its subvolumes are gone. The cleaner drops deleted
  // subvolumes in the background, so right after a destroy the group usually still has members:
  // it is noted and destroyed by a later call (one spawn for all of them) or the next setup.
  private async dropQgroup(qgroup: string): Promise<void> {
    await this.lock.run(["stale-qgroups"], async () => {
      const left = await destroyQgroups([...new Set([...(await this.readStaleQgroups()), qgroup])], this.root);
      await writeFile(join(this.root, STALE_QGROUPS), JSON.stringify(left));
    });
  }

  private async destroyStaleQgroups(): Promise<void> {
    await this.lock.run(["stale-qgroups"], async () => {
      const pending = await this.readStaleQgroups();
      if (pending.length === 0) return;
      await writeFile(join(this.root, STALE_QGROUPS), JSON.stringify(await destroyQgroups(pending, this.root)));
    });
  }

  private async readStaleQgroups(): Promise<string[]> {
    const text = await readFile(join(this.root, STALE_QGROUPS), "utf8").catch(() => "[]");
    let ids: unknown;
    try {
      ids = JSON.parse(text);
    } catch {
      ids = []; // a torn write: at worst an empty group stays behind
    }
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string" && /^1\/\d+$/.test(id)) : [];
  }

  private basePath(name: string): string {
    return join(this.root, "bases", name);
  }

  private workspacePath(name: string): string {
    return join(this.root, "workspaces", name);
  }

  private snapshotPath(workspace: string, snapshot: string): string {
    return join(this.root, "snapshots", workspace, snapshot);
  }
}

// The operator's own btrfs mount: used as it is (not remounted), with a warning when it lets setuid files or device nodes work.
async function checkBtrfs(poolDir: string, logger: Logger): Promise<string> {
  const info = await statfs(poolDir).catch(() => undefined);
  if (!info || info.type !== BTRFS_SUPER_MAGIC) {
    throw new AgentisoError("INVALID_STATE", `btrfs pool not mounted at ${poolDir}: mount it, or leave poolDir unset so \`agentiso init\` creates a loop-file pool`);
  }
  const mount = (await readMounts()).filter((m) => poolDir === m.target || poolDir.startsWith(`${m.target.replace(/\/$/, "")}/`)).sort((a, b) => b.target.length - a.target.length)[0];
  if (mount && !hasSafeFlags(mount.options)) {
    logger.warn("the btrfs pool is mounted without nosuid,nodev: workspaces' setuid files work on the host; remount it with them", { poolDir, mountPoint: mount.target });
  }
  return poolDir;
}

// The workspace's own level-1 qgroup ("1/N"), recorded at creation on a simple-quota pool.
function qgroupOf(ws: WorkspaceRecord): string | undefined {
  const qgroup = ws.backend?.qgroup;
  return typeof qgroup === "string" ? qgroup : undefined;
}

// qgroup paths are relative to the filesystem's top level; ours end with the tag-relative path.
function findUsage<T>(byPath: Map<string, T>, relative: string): T | undefined {
  for (const [path, usage] of byPath) if (path === relative || path.endsWith(`/${relative}`)) return usage;
  return undefined;
}

async function filterExisting(paths: readonly string[]): Promise<string[]> {
  const present = await Promise.all(paths.map((p) => stat(p).then(() => true, () => false)));
  return paths.filter((_, i) => present[i]);
}
