// Memory snapshots (`snapshot` with includeMemory, `ws snapshot --memory`): a running VM's
// whole machine saved together with a disk snapshot taken at the same instant, so forks (and a
// restore) resume it as a template start does instead of booting — with its processes, its
// tmpfs and its page cache. The runtime saves and restores (WorkspaceRuntime.saveMemory,
// fromTemplate); this module decides when, keeps the file at
// <stateDir>/memory/<workspace id>/<snapshot>.bin and its size and machine in the snapshot's
// row, and removes it with the snapshot or the workspace.
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { AgentisoError } from "../core/errors.js";
import type { SnapshotInfo } from "../storage/storage-driver.js";
import type { EngineDeps, GuestLink } from "./engine-deps.js";
import { memoryPathOf } from "./memory-paths.js";
import { resourcesOf } from "./workspace-options.js";
import type { SnapshotMemory, SnapshotRecord, SavedMachine, WorkspaceRecord } from "./workspace-record.js";
import type { WorkspaceService } from "./workspace-service.js";

const MIB = 1024 * 1024;

// Why a workspace with `wanted` settings cannot resume a saved machine (it boots cold from the
// snapshot's disk instead); undefined when it can. `compatibility`: the runtime's today.
export function resumeRefusal(saved: SavedMachine, wanted: Pick<WorkspaceRecord, "memoryMiB" | "cpus" | "pidsLimit" | "network">, compatibility: string | undefined): string | undefined {
  if (wanted.network !== "none") return `network ${wanted.network} needs a network device the saved machine does not have`;
  if (compatibility !== saved.compatibility) return "the accelerator, guest kernel or agent changed since the memory was saved";
  const differs = (["memoryMiB", "cpus", "pidsLimit"] as const).filter((key) => wanted[key] !== saved[key]);
  if (differs.length === 0) return undefined;
  return `its ${differs.join(", ")} differ from the saved machine's (memoryMiB ${saved.memoryMiB}, cpus ${saved.cpus}, pidsLimit ${saved.pidsLimit})`;
}

// Why `record` cannot have a memory snapshot taken now; undefined when it can.
export function captureRefusal(record: WorkspaceRecord, canSave: boolean): AgentisoError | undefined {
  if (!canSave) {
    return new AgentisoError("UNSUPPORTED", `workspace ${record.name} runs in a ${record.runtime}: only vm workspaces can save their memory (a container's processes share the host's kernel); snapshot without memory instead`);
  }
  if (record.state !== "running") {
    return new AgentisoError("INVALID_STATE", `workspace ${record.name} is ${record.state}: only a running VM has memory to save; start it (or resume it), or snapshot without memory`);
  }
  if (record.network !== "none") {
    return new AgentisoError("UNSUPPORTED", `workspace ${record.name} has network ${record.network}: a memory snapshot would clone its network device, MAC address and connections into every fork; switch it to network none first, or snapshot without memory`);
  }
  return undefined;
}

// The memory files count toward the workspace's disk limit, with what its volume holds.
export function quotaRefusal(record: WorkspaceRecord, usedBytes: number, memoryBytes: number): AgentisoError | undefined {
  const upTo = record.memoryMiB * MIB; // the file holds at most the guest's RAM (zero pages are flags)
  if (usedBytes + memoryBytes + upTo <= record.diskBytes) return undefined;
  return new AgentisoError(
    "QUOTA_EXCEEDED",
    `a memory snapshot of ${record.name} may need ${upTo} bytes: with its disk use (${usedBytes}) and its other memory snapshots (${memoryBytes}) that passes its disk limit (${record.diskBytes}); delete a snapshot first`,
  );
}

export class MemorySnapshots<G extends GuestLink> {
  constructor(
    private readonly workspaces: WorkspaceService<G>,
    private readonly deps: EngineDeps<G>,
  ) {}

  // Whether the record's runtime can save a machine (containers cannot).
  canSave(record: Pick<WorkspaceRecord, "runtime">): boolean {
    return this.workspaces.runtimeOf(record).saveMemory !== undefined;
  }

  // Saves the running VM and snapshots its disk at the same instant; the VM runs on.
  async capture(record: WorkspaceRecord, snapshot: string, existing: readonly SnapshotRecord[]): Promise<{ info: SnapshotInfo; memory: SnapshotMemory }> {
    const runtime = this.workspaces.runtimeOf(record);
    const refusal = captureRefusal(record, this.canSave(record)) ?? (await this.overQuota(record, existing));
    if (refusal) throw refusal;
    // a fork that cannot resume boots cold from this disk: it must hold what was written
    await this.deps.guests.syncDisk(await this.workspaces.guest(record.id));
    const path = memoryPathOf(this.deps.stateDir, record.id, snapshot);
    await mkdir(dirname(path), { recursive: true });
    let info: SnapshotInfo | undefined;
    try {
      const saved = await this.workspaces.guests.whileDetached(record.id, (detachHost) =>
        runtime.saveMemory!(record.id, path, { detachHost, atSameInstant: async () => void (info = await this.deps.storage.snapshot(record.id, snapshot)) }),
      );
      const memory = { sizeBytes: saved.sizeBytes, machine: { ...resourcesOf(record), compatibility: (await runtime.templateCompatibility?.()) ?? "" } };
      this.deps.logger.info("memory snapshot saved", { workspace: record.id, snapshot, ...saved });
      await this.syncClock(record);
      return { info: info!, memory };
    } catch (err) {
      await rm(path, { force: true });
      if (info) await this.deps.storage.deleteSnapshot(record.id, snapshot).catch(() => {});
      throw err;
    }
  }

  // The saved memory a workspace with `wanted` settings starts from, or undefined (boot cold; logged why).
  async resumable(origin: WorkspaceRecord, snapshot: SnapshotRecord, wanted: WorkspaceRecord): Promise<{ memoryPath: string } | undefined> {
    if (!snapshot.memory) return undefined;
    const compatibility = await this.workspaces.runtimeOf(wanted).templateCompatibility?.();
    const memoryPath = memoryPathOf(this.deps.stateDir, origin.id, snapshot.name);
    const why = resumeRefusal(snapshot.memory.machine, wanted, compatibility) ?? (existsSync(memoryPath) ? undefined : `${memoryPath} is gone`);
    if (why === undefined) return { memoryPath };
    this.deps.logger.warn("memory snapshot not resumed: booting cold from its disk", { workspace: wanted.id, origin: origin.id, snapshot: snapshot.name, why });
    return undefined;
  }

  async remove(workspaceId: string, snapshot: string): Promise<void> {
    await rm(memoryPathOf(this.deps.stateDir, workspaceId, snapshot), { force: true });
  }

  private async overQuota(record: WorkspaceRecord, existing: readonly SnapshotRecord[]): Promise<AgentisoError | undefined> {
    if (!this.deps.storage.capabilities.quotas) return undefined;
    const { usedBytes } = await this.deps.storage.usage(record.id);
    return quotaRefusal(record, usedBytes, existing.reduce((sum, s) => sum + (s.memory?.sizeBytes ?? 0), 0));
  }

  // The guest's clock stood still while it was saved.
  private async syncClock(record: WorkspaceRecord): Promise<void> {
    try {
      await this.deps.guests.syncClock?.(await this.workspaces.guest(record.id), AbortSignal.timeout(30_000));
    } catch (err) {
      this.deps.logger.warn("could not set the clock of a vm after saving its memory", { workspace: record.id, err });
    }
  }
}
