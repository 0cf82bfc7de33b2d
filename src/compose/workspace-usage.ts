// Memory and CPU use of running workspaces for the dashboard, read from their cgroups every
// few seconds while a page is open (never otherwise): CPU as a percentage of one core over the
// last interval, from the difference of two readings. Disk used by every workspace (running or
// not) comes from one read of the whole pool (StorageDriver.usageOfAll: one `btrfs qgroup show`,
// not one per workspace), every DISK_EVERY-th refresh.
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import { cgroupUsageOf } from "../runtimes/cgroup-usage.js";
import { cgroupHierarchies } from "../runtimes/host-cgroups.js";

export interface WorkspaceUsage {
  memoryBytes?: number;
  cpuPercent?: number;
  diskUsedBytes?: number;
}

const DISK_EVERY = 2;

export class WorkspaceUsageSampler {
  private readonly previous = new Map<string, { cpuUsec: number; atMs: number }>();
  private readonly current = new Map<string, WorkspaceUsage>();
  private disk = new Map<string, number>();
  private refreshes = 0;

  /** diskOfAll: bytes used by volume (a workspace's id), from one read of the pool. */
  constructor(private readonly diskOfAll?: () => Promise<Map<string, number>>) {}

  // Reads the cgroups of the running workspaces (forgets the others) and, every few calls, the pool.
  async refresh(records: readonly WorkspaceRecord[]): Promise<void> {
    if (this.diskOfAll && this.refreshes++ % DISK_EVERY === 0) this.disk = await this.diskOfAll().catch(() => this.disk);
    const hierarchies = await cgroupHierarchies();
    const running = records.filter((r) => r.state === "running" && r.pid !== undefined);
    const read = await Promise.all(running.map(async (r) => [r.id, await cgroupUsageOf(r.pid!, hierarchies)] as const));
    const now = Date.now();
    const seen = new Set<string>();
    for (const [id, usage] of read) {
      seen.add(id);
      const before = this.previous.get(id);
      const cpuPercent = before && usage.cpuUsec !== undefined && now > before.atMs ? Math.round(((usage.cpuUsec - before.cpuUsec) / 1000 / (now - before.atMs)) * 1000) / 10 : undefined;
      if (usage.cpuUsec !== undefined) this.previous.set(id, { cpuUsec: usage.cpuUsec, atMs: now });
      this.current.set(id, { ...(usage.memoryBytes !== undefined && { memoryBytes: usage.memoryBytes }), ...(cpuPercent !== undefined && { cpuPercent: Math.max(0, cpuPercent) }) });
    }
    for (const id of [...this.current.keys()]) {
      if (seen.has(id)) continue;
      this.current.delete(id);
      this.previous.delete(id);
    }
  }

  of(id: string): WorkspaceUsage | undefined {
    const disk = this.disk.get(id);
    return disk === undefined ? this.current.get(id) : { ...this.current.get(id), diskUsedBytes: disk };
  }
}
