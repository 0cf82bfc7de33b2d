// The cgroups of workspaces on the host, shared by both runtimes (runc creates a container's,
// the vm runtime creates QEMU's): the mounted hierarchies, and the removal and listing of the
// tagged cgroups a stop or a crash leaves behind (reconcile finds orphans by their tagged name).
import { readFile, readdir, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { delay } from "../core/deadline.js";

const CGROUP_ROOT = "/sys/fs/cgroup";

// Every mounted cgroup hierarchy (v1 controllers, the v2 unified tree, or both on hybrid hosts).
export async function cgroupHierarchies(): Promise<string[]> {
  return parseCgroupMounts(await readFile("/proc/self/mountinfo", "utf8"));
}

// The cgroup/cgroup2 mount points under /sys/fs/cgroup in a /proc/PID/mountinfo text.
export function parseCgroupMounts(mountinfo: string): string[] {
  const mounts: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    const fsType = right?.split(" ")[0];
    const mountPoint = left?.split(" ")[4];
    if (mountPoint && (fsType === "cgroup" || fsType === "cgroup2") && mountPoint.startsWith(CGROUP_ROOT)) mounts.push(mountPoint);
  }
  return [...new Set(mounts)];
}

// Removes the cgroup directory `name` (a top-level, flat cgroupsPath) from every hierarchy; returns what is still there.
// A cgroup whose last processes are still being torn down (after SIGKILL) answers EBUSY for a moment: retried until busyTimeoutMs.
export async function removeCgroup(name: string, busyTimeoutMs = 5_000): Promise<string[]> {
  const deadline = Date.now() + busyTimeoutMs;
  let left = (await cgroupHierarchies()).map((hierarchy) => join(hierarchy, name));
  while (true) {
    const busy: string[] = [];
    for (const dir of left) {
      const code = await rmdir(dir).then(() => undefined, (err: NodeJS.ErrnoException) => err.code);
      if (code !== undefined && code !== "ENOENT") busy.push(dir);
    }
    left = busy;
    if (left.length === 0 || Date.now() >= deadline) return left;
    await delay(20);
  }
}

// Top-level cgroup names in any hierarchy that satisfy `owns` (orphans of this engine's tag).
export async function listCgroups(owns: (name: string) => boolean): Promise<string[]> {
  const names = new Set<string>();
  for (const hierarchy of await cgroupHierarchies()) {
    for (const entry of await readdir(hierarchy, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory() && owns(entry.name)) names.add(entry.name);
    }
  }
  return [...names];
}
