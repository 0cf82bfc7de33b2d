// The cgroup around a workspace's QEMU process: the guest's memory plus QEMU's own overhead,
// its vCPUs as a CPU quota, and a pids cap on QEMU's threads. Named like the container
// runtime's cgroups (tag.name("ws", id)) so the same orphan listing and removal apply.
// QEMU joins it before it execs (see vm-process.ts), so no instruction runs unlimited.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cgroupHierarchies } from "../host-cgroups.js";
import type { WorkspaceResources } from "../workspace-runtime.js";
import { TCG_CODE_BUFFER_MIB } from "./qemu-command.js";

/** QEMU's own memory beyond guest RAM (device state, I/O buffers), plus TCG's code buffer under TCG. */
export const QEMU_OVERHEAD_MIB = 192;
/** QEMU's threads: vCPUs, I/O workers, the main loop. Guest processes do not count here. */
const QEMU_PIDS_MAX = 128;
const CFS_PERIOD_US = 100_000;

// Creates the cgroup in every hierarchy with the limits for `resources`; returns the cgroup.procs files QEMU must join.
export async function createVmCgroup(name: string, guestMemoryMiB: number, resources: WorkspaceResources, accel: "kvm" | "tcg"): Promise<string[]> {
  const memoryBytes = (guestMemoryMiB + QEMU_OVERHEAD_MIB + (accel === "tcg" ? TCG_CODE_BUFFER_MIB : 0)) * 1024 * 1024;
  const quotaUs = Math.max(1000, Math.round(resources.cpus * CFS_PERIOD_US));
  const procs: string[] = [];
  for (const hierarchy of await cgroupHierarchies()) {
    const dir = join(hierarchy, name);
    await mkdir(dir, { recursive: true });
    const controllers = hierarchy.split("/").pop()!.split(",");
    if (hierarchy === "/sys/fs/cgroup") {
      // pure cgroup v2: one tree, the limits are files of the same directory
      await writeLimits(dir, { "memory.max": String(memoryBytes), "pids.max": String(QEMU_PIDS_MAX), "cpu.max": `${quotaUs} ${CFS_PERIOD_US}` });
    } else {
      if (controllers.includes("memory")) await writeLimits(dir, { "memory.limit_in_bytes": String(memoryBytes) });
      if (controllers.includes("pids")) await writeLimits(dir, { "pids.max": String(QEMU_PIDS_MAX) });
      if (controllers.includes("cpu")) await writeLimits(dir, { "cpu.cfs_period_us": String(CFS_PERIOD_US), "cpu.cfs_quota_us": String(quotaUs) });
    }
    procs.push(join(dir, "cgroup.procs"));
  }
  return procs;
}

async function writeLimits(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, value] of Object.entries(files)) await writeFile(join(dir, file), value);
}
