// What the host lets a workspace's spec ask for: the daemon's own hard rlimits (runc sets a
// workspace's from inside its user namespace, which cannot raise one above what it inherited:
// root here lacks CAP_SYS_RESOURCE on some hosts), and whether the block IO controller can
// weigh IO (only with a weighing scheduler, BFQ or CFQ; mq-deadline and none have no weights).
import { access, readFile } from "node:fs/promises";
import type { HardLimits } from "./oci-spec.js";

const LIMIT_NAMES: Record<string, keyof HardLimits> = { "Max open files": "RLIMIT_NOFILE", "Max processes": "RLIMIT_NPROC", "Max core file size": "RLIMIT_CORE" };

// Parses /proc/PID/limits ("Limit  Soft Limit  Hard Limit  Units" columns); unlimited = Infinity.
export function parseHardLimits(text: string): HardLimits {
  const limits: HardLimits = {};
  for (const line of text.split("\n")) {
    for (const [name, type] of Object.entries(LIMIT_NAMES)) {
      if (!line.startsWith(name)) continue;
      const hard = line.slice(name.length).trim().split(/\s+/)[1];
      limits[type] = hard === "unlimited" ? Infinity : Number(hard);
    }
  }
  return limits;
}

// The daemon's hard limits ({} where /proc cannot be read: the spec then asks for its defaults).
export async function readHardLimits(): Promise<HardLimits> {
  return parseHardLimits(await readFile("/proc/self/limits", "utf8").catch(() => ""));
}

// True when a cgroup IO weight would take effect (a v1 blkio or v2 io weight file exists at the root).
export async function ioWeightSupported(): Promise<boolean> {
  const files = ["/sys/fs/cgroup/blkio/blkio.weight", "/sys/fs/cgroup/blkio/blkio.bfq.weight", "/sys/fs/cgroup/io.weight", "/sys/fs/cgroup/io.bfq.weight", "/sys/fs/cgroup/unified/io.weight"];
  for (const file of files) if (await access(file).then(() => true, () => false)) return true;
  return false;
}
