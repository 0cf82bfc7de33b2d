// Memory-snapshot templates: a fresh VM workspace resumes a machine that already booted
// instead of booting. Per (base image, resources, runtime compatibility) one template volume
// is cold-booted once, saved (memory + devices) and snapshotted at the same instant; each new
// workspace is a copy-on-write fork of that snapshot plus the saved memory, so the guest's
// page cache and its disk agree. Template volumes are named `tmpl-<key>` and belong to this
// service (reconcile leaves them alone); their files live in <stateDir>/templates/<volume>/.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { KeyedLock } from "../core/keyed-lock.js";
import type { Logger } from "../core/logger.js";
import type { StorageDriver } from "../storage/storage-driver.js";
import type { WorkspaceResources, WorkspaceRuntime } from "../runtimes/workspace-runtime.js";
import { resourcesOf } from "./workspace-options.js";
import type { WorkspaceRecord } from "./workspace-record.js";

export const TEMPLATE_VOLUME_PREFIX = "tmpl-";
const READY_SNAPSHOT = "ready";

export interface BootTemplate {
  /** Fork new workspaces from volume@snapshot. */
  volume: string;
  snapshot: string;
  memoryPath: string;
}

export class BootTemplates {
  private readonly lock = new KeyedLock();

  constructor(
    private readonly storage: StorageDriver,
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  // The template for fresh workspaces of `base` with `resources`, captured on first use;
  // undefined where the runtime has no memory snapshots.
  async acquire(runtime: WorkspaceRuntime, base: string, resources: WorkspaceResources, signal?: AbortSignal): Promise<BootTemplate | undefined> {
    if (!runtime.captureTemplate || !runtime.templateCompatibility) return undefined;
    const compatibility = await runtime.templateCompatibility();
    const key = createHash("sha256").update(JSON.stringify([base, resources, compatibility])).digest("hex").slice(0, 16);
    const volume = `${TEMPLATE_VOLUME_PREFIX}${key}`;
    return this.lock.run([volume], async () => {
      const template = { volume, snapshot: READY_SNAPSHOT, memoryPath: join(this.dir, volume, "memory.bin") };
      if (await this.isComplete(template)) return template;
      await this.capture(runtime, template, base, resources, signal);
      return template;
    });
  }

  // The template for a fresh workspace, or undefined: one that cannot be made is logged and the
  // workspace boots cold instead. Templates are captured in network mode none, without a network
  // device, and a restore must recreate the saved devices exactly: a workspace in egress boots cold.
  async acquireOrBootCold(record: WorkspaceRecord, runtime: WorkspaceRuntime, base: string, signal?: AbortSignal): Promise<BootTemplate | undefined> {
    if (record.network !== "none") return undefined;
    try {
      return await this.acquire(runtime, base, resourcesOf(record), signal);
    } catch (err) {
      this.logger.error("boot template unavailable: booting cold", { workspace: record.id, base, err });
      return undefined;
    }
  }

  private async isComplete(template: BootTemplate): Promise<boolean> {
    const volume = (await this.storage.listWorkspaces()).find((v) => v.name === template.volume);
    if (!volume) return false;
    const snapshots = await this.storage.listSnapshots(template.volume);
    if (existsSync(template.memoryPath) && snapshots.some((s) => s.name === template.snapshot)) return true;
    // cut off mid-capture (a crash): start over
    await this.storage.destroyWorkspace(template.volume);
    return false;
  }

  // Boots a volume of `base` once, saves the machine, and freezes the disk as it was at that instant.
  private async capture(runtime: WorkspaceRuntime, template: BootTemplate, base: string, resources: WorkspaceResources, signal?: AbortSignal): Promise<void> {
    const dir = join(this.dir, template.volume);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await this.storage.createWorkspace(template.volume, { base, ...(signal && { signal }) });
    try {
      const partial = `${template.memoryPath}.partial`;
      const saved = await runtime.captureTemplate!(
        { workspaceId: template.volume, hostname: "agentiso", rootfs: await this.storage.rootfs(template.volume), resources, network: "none", runDir: join(dir, "run"), ...(signal && { signal }) },
        partial,
      );
      await this.storage.snapshot(template.volume, template.snapshot);
      await rename(partial, template.memoryPath);
      this.logger.info("boot template captured", { volume: template.volume, base, ...saved });
    } catch (err) {
      await this.storage.destroyWorkspace(template.volume).catch(() => {});
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
}
