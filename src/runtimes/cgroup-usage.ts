// What a workspace uses now, read from the cgroup its process runs in (a container's init or a
// VM's QEMU): memory charged and CPU time consumed, on cgroup v1 (memory, cpuacct) or v2. For
// the dashboard: cheap reads of a few small files, undefined for what cannot be read.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { cgroupHierarchies } from "./host-cgroups.js";

export interface CgroupUsage {
  memoryBytes?: number;
  /** CPU time of every process in the cgroup since it was created, in microseconds. */
  cpuUsec?: number;
}

// Usage of the cgroup of `pid` (undefined fields when the process or its files are gone).
export async function cgroupUsageOf(pid: number, hierarchies?: string[]): Promise<CgroupUsage> {
  const membership = await readFile(`/proc/${pid}/cgroup`, "utf8").catch(() => "");
  const mounts = hierarchies ?? (await cgroupHierarchies());
  const lines = membership.split("\n").map((line) => /^\d+:([^:]*):(.+)$/.exec(line));
  // a process at a hierarchy's root would report the whole host's usage: that counts as unknown
  const pathFor = (controller: string) => lines.find((m) => m?.[1]!.split(",").includes(controller) && m[2] !== "/")?.[2];
  const mountFor = (controller: string) => mounts.find((m) => m.split("/").pop()!.split(",").includes(controller));
  const usage: CgroupUsage = {};
  const memoryPath = pathFor("memory");
  const memoryMount = mountFor("memory");
  const cpuPath = pathFor("cpuacct");
  const cpuMount = mountFor("cpuacct");
  if (memoryPath !== undefined && memoryMount) usage.memoryBytes = await readNumber(join(memoryMount, memoryPath, "memory.usage_in_bytes"));
  if (cpuPath !== undefined && cpuMount) {
    const ns = await readNumber(join(cpuMount, cpuPath, "cpuacct.usage"));
    if (ns !== undefined) usage.cpuUsec = ns / 1000;
  }
  const unified = /^0::(.*)$/m.exec(membership)?.[1];
  const v2 = mounts.find((m) => m === "/sys/fs/cgroup" || m.endsWith("/unified"));
  if (unified !== undefined && unified !== "/" && v2) {
    usage.memoryBytes ??= await readNumber(join(v2, unified, "memory.current"));
    const stat = await readFile(join(v2, unified, "cpu.stat"), "utf8").catch(() => "");
    const usec = /^usage_usec (\d+)$/m.exec(stat)?.[1];
    if (usec !== undefined) usage.cpuUsec ??= Number(usec);
  }
  return usage;
}

async function readNumber(path: string): Promise<number | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  const value = Number(text?.trim());
  return text === undefined || !Number.isFinite(value) ? undefined : value;
}
