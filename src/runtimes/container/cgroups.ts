// The workspace's cgroup directories on the host. runc creates them from the absolute
// cgroupsPath and removes them on `delete`, but not always (a killed runc, nested parents):
// the runtime removes what is left and reconcile finds orphans by their tagged name.
import { readFile, readdir, rmdir } from "node:fs/promises";
import { join } from "node:path";

const CGROUP_ROOT = "/sys/fs/cgroup";

// Every mounted cgroup hierarchy (v1 controllers, the v2 unified tree, or both on hybrid hosts).
export async function cgroupHierarchies(): Promise<string[]> {
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
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
export async function removeCgroup(name: string): Promise<string[]> {
  const left: string[] = [];
  for (const hierarchy of await cgroupHierarchies()) {
    const dir = join(hierarchy, name);
    try {
      await rmdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") left.push(dir);
    }
  }
  return left;
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
