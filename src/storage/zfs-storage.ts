// zfs driver — the seed's production path. Everything lives under one parent dataset named
// by the engine's tag: <pool>/<tag>/base-<b> (with @base), <pool>/<tag>/ws-<w> (a clone), its
// snapshots <pool>/<tag>/ws-<w>@<s>; a fork is `zfs clone ws-<w>@<s>`. Containers get the
// dataset's mountpoint, VMs a zvol (/dev/zvol/...). Lineage is also written to the datasets as
// user properties (agentiso:forked-from, agentiso:base). Quotas are `refquota` — the limit
// counts everything the workspace references, data shared with its origin included — and
// `quota` with the same value, which also counts the workspace's snapshots: what a snapshot
// keeps alive is charged to its workspace, so snapshots cannot grow a workspace past its limit.
// The parent dataset has setuid=off and devices=off (inherited): workspaces write as root-inside,
// and a setuid file or a device node they planted gives nothing to anyone on the host.
// zfs-fuse (no kernel zfs): datasets, snapshots and clones work; zvols do not (zvols: false).
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { ResourceTag } from "../core/resource-tag.js";
import { restrictToWorkspaces } from "../core/state-dir.js";
import { runCommand } from "../core/run-command.js";
import { buildDiskImage, populateDirectory } from "./base-import.js";
import { CatalogStorage } from "./catalog-storage.js";
import type { BaseSource, DiskUsage, RootfsHandle, StorageCapabilities, VolumeLayout } from "./storage-driver.js";
import type { BaseRecord, WorkspaceRecord } from "./volume-catalog.js";
import { assertPoolSpace, waitForDevice, zfs, zfsBytes, zfsDestroy, zfsExists, zfsSnapshotUsed } from "./zfs-cli.js";

export interface ZfsStorageOptions {
  /** An imported zpool (or a dataset inside one) to hold the parent dataset. */
  pool: string;
  tag: ResourceTag;
  logger: Logger;
  /** False where zvols cannot be created (zfs-fuse): no block volumes then. Default true. */
  zvols?: boolean;
  /** Creating volumes is refused below this much free pool space. Default 256 MiB. */
  minFreeBytes?: number;
  /** The workspaces' host gid: the parent's mountpoint becomes 0710 root:<gid>, closed to every other local user. */
  workspaceGid?: number;
}

/** Set on the parent dataset, inherited by every dataset below it. */
const SAFE_PROPERTIES = { setuid: "off", devices: "off" } as const;

const POOL_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*$/;

export class ZfsStorage extends CatalogStorage {
  readonly kind = "zfs" as const;
  readonly capabilities: StorageCapabilities;
  private readonly parent: string;
  private mountRoot = "";

  constructor(private readonly options: ZfsStorageOptions) {
    super(options.logger.child({ storage: "zfs" }));
    if (!POOL_PATTERN.test(options.pool)) throw new AgentisoError("INVALID_INPUT", `invalid zfs pool name ${JSON.stringify(options.pool)}`);
    this.parent = `${options.pool}/${options.tag.prefix}`;
    this.capabilities = { blockVolumes: options.zvols ?? true, quotas: true, quotaCoversSnapshots: true, constantTimeFork: true, restoreKeepsLaterSnapshots: false };
  }

  // Creates the tagged parent dataset once; the catalog lives in a folder of its filesystem.
  protected async prepare(signal?: AbortSignal): Promise<string> {
    if (!(await zfsExists(this.options.pool))) {
      throw new AgentisoError("INVALID_STATE", `zfs pool ${this.options.pool} is not imported: run \`zpool import ${this.options.pool}\` (and start zfs-fuse where there is no kernel zfs)`);
    }
    const safe = Object.entries(SAFE_PROPERTIES).flatMap(([key, value]) => ["-o", `${key}=${value}`]);
    if (!(await zfsExists(this.parent))) await zfs(["create", "-o", `agentiso:tag=${this.options.tag.prefix}`, ...safe, this.parent], signal);
    else await this.ensureSafeProperties(signal);
    this.mountRoot = (await zfs(["get", "-H", "-o", "value", "mountpoint", this.parent], signal)).trim();
    if (!this.mountRoot.startsWith("/")) throw new AgentisoError("INVALID_STATE", `zfs dataset ${this.parent} has no mountpoint (${this.mountRoot})`);
    if (this.options.workspaceGid !== undefined) restrictToWorkspaces(this.mountRoot, this.options.workspaceGid);
    return join(this.mountRoot, "catalog");
  }

  // A parent created by an older version: switch setuid and devices off now.
  private async ensureSafeProperties(signal?: AbortSignal): Promise<void> {
    const names = Object.keys(SAFE_PROPERTIES);
    const values = (await zfs(["get", "-H", "-o", "value", names.join(","), this.parent], signal)).trim().split("\n");
    for (const [i, name] of names.entries()) {
      const wanted = SAFE_PROPERTIES[name as keyof typeof SAFE_PROPERTIES];
      if (values[i]?.trim() !== wanted) await zfs(["set", `${name}=${wanted}`, this.parent], signal);
    }
  }

  protected release(): Promise<void> {
    return Promise.resolve();
  }

  protected async createBase(name: string, source: BaseSource, layout: VolumeLayout, signal?: AbortSignal): Promise<number> {
    await assertPoolSpace(this.parent, this.minFreeBytes());
    const dataset = `${this.parent}/base-${name}`;
    try {
      if (layout === "directory") {
        await zfs(["create", dataset], signal);
        await populateDirectory(source, join(this.mountRoot, `base-${name}`), signal);
      } else {
        await this.createZvolBase(dataset, source, signal);
      }
      await zfs(["snapshot", `${dataset}@base`], signal);
      if (layout === "directory") await zfs(["set", "readonly=on", dataset], signal);
      return await zfsBytes(dataset, "used");
    } catch (err) {
      if (await zfsExists(dataset)) await zfsDestroy(dataset, { recursive: true });
      throw err;
    }
  }

  protected async removeBase(base: BaseRecord): Promise<void> {
    await zfsDestroy(`${this.parent}/base-${base.name}`, { recursive: true });
  }

  protected async cloneBase(ws: WorkspaceRecord, base: BaseRecord, signal?: AbortSignal): Promise<void> {
    await assertPoolSpace(this.parent, this.minFreeBytes());
    const args = ["clone", "-o", `agentiso:base=${base.name}`, ...this.readWrite(ws), `${this.parent}/base-${base.name}@base`, this.dataset(ws.name)];
    await zfs(args, signal);
  }

  protected async cloneSnapshot(ws: WorkspaceRecord, origin: WorkspaceRecord, snapshot: string, signal?: AbortSignal): Promise<void> {
    await assertPoolSpace(this.parent, this.minFreeBytes());
    const lineage = ["-o", `agentiso:forked-from=${origin.name}@${snapshot}`, "-o", `agentiso:base=${origin.base}`];
    await zfs(["clone", ...lineage, ...this.readWrite(ws), `${this.dataset(origin.name)}@${snapshot}`, this.dataset(ws.name)], signal);
  }

  protected async takeSnapshot(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    await zfs(["snapshot", `${this.dataset(ws.name)}@${snapshot}`]);
  }

  protected async removeSnapshot(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    await zfsDestroy(`${this.dataset(ws.name)}@${snapshot}`, { recursive: false });
  }

  // `rollback -r` destroys the snapshots taken after this one (the base class checked their forks).
  protected async rollback(ws: WorkspaceRecord, snapshot: string): Promise<void> {
    await zfs(["rollback", "-r", `${this.dataset(ws.name)}@${snapshot}`]);
  }

  protected async removeWorkspace(ws: WorkspaceRecord): Promise<void> {
    if (await zfsExists(this.dataset(ws.name))) await zfsDestroy(this.dataset(ws.name), { recursive: true });
  }

  protected async applyQuota(ws: WorkspaceRecord, quotaBytes: number | undefined): Promise<void> {
    if (ws.layout === "block") throw new AgentisoError("UNSUPPORTED", "a zvol's size (volsize) is its limit: VM disks take no quota");
    await zfs(["set", `refquota=${quotaBytes ?? "none"}`, this.dataset(ws.name)]);
    await zfs(["set", `quota=${quotaBytes ?? "none"}`, this.dataset(ws.name)]);
  }

  protected async measure(ws: WorkspaceRecord): Promise<DiskUsage> {
    if (ws.layout === "block") return { usedBytes: await zfsBytes(this.dataset(ws.name), "used") };
    // both limits hold the same number: the one closer to it is what binds
    const values = await zfs(["get", "-H", "-p", "-o", "value", "referenced,used", this.dataset(ws.name)]);
    const usedBytes = Math.max(...values.trim().split("\n").map(Number));
    return { usedBytes, ...(ws.quotaBytes !== undefined ? { quotaBytes: ws.quotaBytes } : {}) };
  }

  // One recursive `zfs get used` under the parent (zfs-fuse's `zfs list` knows no -p or -d): each
  // workspace dataset's (or zvol's) `used`, its snapshots included.
  async usageOfAll(): Promise<Map<string, number>> {
    const listed = await zfs(["get", "-H", "-p", "-r", "-o", "name,value", "used", this.parent]).catch(() => "");
    const prefix = `${this.parent}/ws-`;
    const used = new Map<string, number>();
    for (const line of listed.split("\n")) {
      const [name = "", bytes = ""] = line.split("\t");
      const workspace = name.startsWith(prefix) ? name.slice(prefix.length) : "";
      if (workspace && !/[@/]/.test(workspace) && /^\d+$/.test(bytes)) used.set(workspace, Number(bytes));
    }
    return used;
  }

  protected snapshotSizes(ws: WorkspaceRecord): Promise<Map<string, number>> {
    return zfsSnapshotUsed(this.dataset(ws.name));
  }

  protected async handle(ws: WorkspaceRecord): Promise<RootfsHandle> {
    if (ws.layout === "directory") return { kind: "directory", path: join(this.mountRoot, `ws-${ws.name}`) };
    const device = `/dev/zvol/${this.dataset(ws.name)}`;
    await waitForDevice(device);
    return { kind: "block", path: device, format: "device" };
  }

  private async createZvolBase(dataset: string, source: BaseSource, signal?: AbortSignal): Promise<void> {
    const scratch = join(this.mountRoot, "scratch");
    await mkdir(scratch, { recursive: true });
    const image = join(scratch, `${dataset.split("/").at(-1)}.raw`);
    try {
      await buildDiskImage(source, image, scratch, signal);
      const { size } = await stat(image);
      await zfs(["create", "-V", String(Math.ceil(size / 8192) * 8192), dataset], signal);
      await waitForDevice(`/dev/zvol/${dataset}`);
      await runCommand(["dd", `if=${image}`, `of=/dev/zvol/${dataset}`, "bs=1M", "conv=sparse,fsync", "status=none"], { signal, timeoutMs: 30 * 60_000 });
    } finally {
      await rm(image, { force: true });
    }
  }

  private readWrite(ws: WorkspaceRecord): string[] {
    return ws.layout === "directory" ? ["-o", "readonly=off"] : [];
  }

  private dataset(workspace: string): string {
    return `${this.parent}/ws-${workspace}`;
  }

  private minFreeBytes(): number {
    return this.options.minFreeBytes ?? 256 * 1024 * 1024;
  }
}
