// overlayfs driver for machines with neither btrfs nor ZFS. A workspace is an overlay whose
// lower layer is the base; a snapshot is a copy of the workspace's upper dir (it costs what
// the workspace changed, not the size of the base); a fork is a new overlay whose lowers are
// that snapshot over the origin's own lowers — mounting it is constant time. VM workspaces
// are qcow2 overlay files backed by the base's raw image (or by a snapshot's qcow2).
// No quotas: the upper dirs share the host filesystem.
//
// On disk, under <rootDir>/<tag prefix>/: bases/<b>  workspaces/<w>/{upper,work,merged}
//   snapshots/<w>/<s>  (or <s>.qcow2)  catalog/
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../core/logger.js";
import type { ResourceTag } from "../core/resource-tag.js";
import { restrictToWorkspaces } from "../core/state-dir.js";
import { runCommand } from "../core/run-command.js";
import { buildDiskImage, directorySizeBytes, populateDirectory } from "./base-import.js";
import { CatalogStorage } from "./catalog-storage.js";
import { mountOverlay, unmountOverlay } from "./overlay-mount.js";
import type { BaseSource, DiskUsage, RootfsHandle, StorageCapabilities, VolumeLayout } from "./storage-driver.js";
import { VolumeCatalog, type BaseRecord, type WorkspaceRecord } from "./volume-catalog.js";

export interface OverlayStorageOptions {
  /** Directory on a filesystem that can hold overlay upper dirs (ext4, xfs, btrfs). */
  rootDir: string;
  tag: ResourceTag;
  logger: Logger;
  /** The workspaces' host gid: our folder becomes 0710 root:<gid> (the upper dirs hold workspace files unmounted). */
  workspaceGid?: number;
}

const DISK_IMAGE = "disk.raw";
const QCOW2 = "disk.qcow2";
const COPY_TIMEOUT_MS = 30 * 60_000;

export class OverlayStorage extends CatalogStorage {
  readonly kind = "overlay" as const;
  readonly capabilities: StorageCapabilities = { blockVolumes: true, quotas: false, constantTimeFork: false, restoreKeepsLaterSnapshots: true };
  private readonly root: string;

  constructor(private readonly options: OverlayStorageOptions) {
    super(options.logger.child({ storage: "overlay" }));
    this.root = join(options.rootDir, options.tag.prefix);
  }

  // Creates the folders and re-mounts every workspace (after a reboot nothing is mounted).
  protected async prepare(): Promise<string> {
    for (const dir of ["bases", "workspaces", "snapshots", "scratch", "catalog"]) await mkdir(join(this.root, dir), { recursive: true });
    if (this.options.workspaceGid !== undefined) restrictToWorkspaces(this.root, this.options.workspaceGid);
    this.logger.warn("overlay storage has no disk quotas: one workspace can fill the filesystem under its upper dir (use btrfs or zfs for untrusted workloads)", { rootDir: this.options.rootDir });
    const catalogDir = join(this.root, "catalog");
    await this.forEachDirectoryWorkspace(catalogDir, (ws) => this.mount(ws));
    return catalogDir;
  }

  protected async release(): Promise<void> {
    await this.forEachDirectoryWorkspace(join(this.root, "catalog"), (ws) => unmountOverlay(this.mergedPath(ws.name)));
  }

  protected async createBase(name: string, source: BaseSource, layout: VolumeLayout, signal?: AbortSignal): Promise<number> {
    const path = join(this.root, "bases", name);
    await mkdir(path);
    try {
      if (layout === "directory") {
        await populateDirectory(source, path, signal);
        return await directorySizeBytes(path);
      }
      await buildDiskImage(source, join(path, DISK_IMAGE), join(this.root, "scratch"), signal);
      return (await stat(join(path, DISK_IMAGE))).size;
    } catch (err) {
      await rm(path, { recursive: true, force: true });
      throw err;
    }
  }

  protected async removeBase(base: BaseRecord): Promise<void> {
    await rm(join(this.root, "bases", base.name), { recursive: true, force: true });
  }

  protected async cloneBase(ws: WorkspaceRecord, base: BaseRecord): Promise<void> {
    const backing = base.layout === "block" ? { file: join("bases", base.name, DISK_IMAGE), format: "raw" } : undefined;
    await this.createVolume(ws, [join("bases", base.name)], backing);
  }

  protected async cloneSnapshot(ws: WorkspaceRecord, origin: WorkspaceRecord, snapshot: string): Promise<void> {
    const snapshotPath = join("snapshots", origin.name, snapshot);
    const backing = origin.layout === "block" ? { file: `${snapshotPath}.qcow2`, format: "qcow2" } : undefined;
    await this.createVolume(ws, [snapshotPath, ...lowersOf(origin)], backing);
  }

  // Cost: a copy of what the workspace changed since it was cloned (its upper dir or qcow2).
  protected async takeSnapshot(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    await mkdir(join(this.root, "snapshots", ws.name), { recursive: true });
    if (ws.layout === "block") await copyFile(this.qcow2Path(ws.name), this.snapshotQcow2(ws.name, snapshot));
    else await copyTree(this.upperPath(ws.name), join(this.root, "snapshots", ws.name, snapshot));
  }

  protected async removeSnapshot(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    const path = join(this.root, "snapshots", ws.name, snapshot);
    await rm(ws.layout === "block" ? `${path}.qcow2` : path, { recursive: true, force: true });
  }

  protected async rollback(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    if (ws.layout === "block") {
      await copyFile(this.snapshotQcow2(ws.name, snapshot), `${this.qcow2Path(ws.name)}.restoring`);
      await runCommand(["mv", "-f", "--", `${this.qcow2Path(ws.name)}.restoring`, this.qcow2Path(ws.name)]);
      return;
    }
    await unmountOverlay(this.mergedPath(ws.name));
    const dir = join(this.root, "workspaces", ws.name);
    await rm(join(dir, "upper"), { recursive: true, force: true });
    await rm(join(dir, "work"), { recursive: true, force: true });
    await copyTree(join(this.root, "snapshots", ws.name, snapshot), join(dir, "upper"));
    await mkdir(join(dir, "work"));
    await this.mount(ws);
  }

  protected async removeWorkspace(ws: WorkspaceRecord): Promise<void> {
    await unmountOverlay(this.mergedPath(ws.name));
    await rm(join(this.root, "workspaces", ws.name), { recursive: true, force: true });
    await rm(join(this.root, "snapshots", ws.name), { recursive: true, force: true });
  }

  protected applyQuota(): Promise<void> {
    return Promise.reject(new Error("unreachable: overlay has no quotas"));
  }

  protected async measure(ws: WorkspaceRecord): Promise<DiskUsage> {
    if (ws.layout === "block") return { usedBytes: (await stat(this.qcow2Path(ws.name))).blocks * 512 };
    return { usedBytes: await directorySizeBytes(this.upperPath(ws.name)) };
  }

  // VM disks only: a qcow2 file's allocated size; a directory's would need a walk of its tree.
  async usageOfAll(): Promise<Map<string, number>> {
    const used = new Map<string, number>();
    for (const ws of await this.catalog.listWorkspaces()) {
      if (ws.layout !== "block") continue;
      const bytes = await stat(this.qcow2Path(ws.name)).then((s) => s.blocks * 512, () => undefined);
      if (bytes !== undefined) used.set(ws.name, bytes);
    }
    return used;
  }

  protected async snapshotSizes(ws: WorkspaceRecord): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for (const s of ws.snapshots) {
      const path = join(this.root, "snapshots", ws.name, s.name);
      sizes.set(s.name, ws.layout === "block" ? (await stat(`${path}.qcow2`)).blocks * 512 : await directorySizeBytes(path));
    }
    return sizes;
  }

  protected async handle(ws: WorkspaceRecord): Promise<RootfsHandle> {
    if (ws.layout === "block") return { kind: "block", path: this.qcow2Path(ws.name), format: "qcow2" };
    await this.mount(ws);
    return { kind: "directory", path: this.mergedPath(ws.name) };
  }

  private async createVolume(ws: WorkspaceRecord, lowers: string[], backing: { file: string; format: string } | undefined): Promise<void> {
    const dir = join(this.root, "workspaces", ws.name);
    await mkdir(dir);
    try {
      if (backing) {
        const argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-F", backing.format, "-b", join(this.root, backing.file), "--", this.qcow2Path(ws.name)];
        await runCommand(argv);
        return;
      }
      ws.backend = { lowers };
      for (const sub of ["upper", "work", "merged"]) await mkdir(join(dir, sub));
      await this.mount(ws);
    } catch (err) {
      await unmountOverlay(this.mergedPath(ws.name)).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private mount(ws: WorkspaceRecord): Promise<void> {
    const dir = join(this.root, "workspaces", ws.name);
    return mountOverlay({
      source: this.options.tag.name("ws", ws.name),
      lowers: lowersOf(ws).map((l) => join(this.root, l)),
      upper: join(dir, "upper"),
      work: join(dir, "work"),
      merged: join(dir, "merged"),
    });
  }

  private async forEachDirectoryWorkspace(catalogDir: string, fn: (ws: WorkspaceRecord) => Promise<void>): Promise<void> {
    const records = await new VolumeCatalog(catalogDir).listWorkspaces();
    for (const ws of records.filter((r) => r.layout === "directory")) await fn(ws);
  }

  private upperPath(name: string): string {
    return join(this.root, "workspaces", name, "upper");
  }

  private mergedPath(name: string): string {
    return join(this.root, "workspaces", name, "merged");
  }

  private qcow2Path(name: string): string {
    return join(this.root, "workspaces", name, QCOW2);
  }

  private snapshotQcow2(workspace: string, snapshot: string): string {
    return join(this.root, "snapshots", workspace, `${snapshot}.qcow2`);
  }
}

/** Lower layers (relative to the root), topmost first. */
function lowersOf(ws: WorkspaceRecord): string[] {
  const lowers = ws.backend?.["lowers"];
  return Array.isArray(lowers) ? lowers.map(String) : [];
}

// cp -a keeps the overlay's whiteouts (0/0 char devices) and opaque xattrs (trusted.overlay.*).
async function copyTree(from: string, to: string): Promise<void> {
  await runCommand(["cp", "-a", "--reflink=auto", "--", from, to], { timeoutMs: COPY_TIMEOUT_MS });
}

async function copyFile(from: string, to: string): Promise<void> {
  await runCommand(["cp", "--sparse=always", "--reflink=auto", "--", from, to], { timeoutMs: COPY_TIMEOUT_MS });
}
