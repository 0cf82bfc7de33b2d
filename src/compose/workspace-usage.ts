// Memory and CPU use of running workspaces for the dashboard, read from their cgroups every
// few seconds while a page is open (never otherwise): CPU as a percentage of one core over the
// last interval, from the difference of two readings.
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import { cgroupUsageOf } from "../runtimes/cgroup-usage.js";
import { cgroupHierarchies } from "../runtimes/host-cgroups.js";

export interface WorkspaceUsage {
  memoryBytes?: number;
  cpuPercent?: number;
}

export class WorkspaceUsageSampler {
  private readonly previous = new Map<string, { cpuUsec: number; atMs: number }>();
  private readonly current = new Map<string, WorkspaceUsage>();

  // Reads the cgroups of the running workspaces; forgets the others.
  async refresh(records: readonly WorkspaceRecord[]): Promise<void> {
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
    return this.current.get(id);
  }
}
