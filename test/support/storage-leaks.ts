// Finds host resources a storage test may leave behind — mounts, loop devices, zfs datasets —
// so each suite can assert that it cleaned up everything it created, naming what leaked.
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

// Mount entries (source + target) under a path or whose source carries a name prefix.
export function mountsMatching(pathPrefix: string, sourcePrefix?: string): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(" "))
    .filter(([source = "", target = ""]) => target.startsWith(pathPrefix) || (sourcePrefix !== undefined && source.startsWith(sourcePrefix)))
    .map(([source, target]) => `mount ${source} on ${target}`);
}

// Loop devices whose backing file lies under a path.
export function loopDevicesUnder(pathPrefix: string): string[] {
  const out = spawnSync("losetup", ["-a", "-n", "-O", "NAME,BACK-FILE", "-l"], { encoding: "utf8" }).stdout ?? "";
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.includes(pathPrefix))
    .map((l) => `loop ${l}`);
}

// zfs datasets whose name starts with a prefix (empty when zfs is absent or the pool is gone).
export function zfsDatasetsMatching(prefix: string): string[] {
  const out = spawnSync("zfs", ["list", "-H", "-o", "name", "-t", "all"], { encoding: "utf8" });
  if (out.status !== 0) return [];
  return out.stdout
    .split("\n")
    .filter((name) => name.startsWith(prefix))
    .map((name) => `dataset ${name}`);
}
