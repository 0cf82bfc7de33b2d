// Reading the kernel's mount table, so setup is idempotent (mount only what is not mounted)
// and cleanup can be checked (nothing of ours left in /proc/mounts).
import { readFile } from "node:fs/promises";

export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
  options: string;
}

// The current mounts of this mount namespace, with octal escapes (\040 = space) decoded.
export async function readMounts(): Promise<MountEntry[]> {
  return parseMounts(await readFile("/proc/self/mounts", "utf8"));
}

// Parses the /proc/mounts format: "source target fstype options dump pass" per line.
export function parseMounts(text: string): MountEntry[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [source = "", target = "", fstype = "", options = ""] = line.split(" ").map(unescapeMountField);
      return { source, target, fstype, options };
    });
}

/** Per-mount flags every mount of workspace files has: no setuid/setgid/file capabilities, no device nodes. */
export const SAFE_FLAGS = "nosuid,nodev";

// Whether a mount's option string (from /proc/mounts) has every flag of SAFE_FLAGS.
export function hasSafeFlags(options: string): boolean {
  const present = new Set(options.split(","));
  return SAFE_FLAGS.split(",").every((flag) => present.has(flag));
}

// The topmost mount at exactly this path, if any.
export async function mountAt(path: string): Promise<MountEntry | undefined> {
  const mounts = await readMounts();
  return mounts.filter((m) => m.target === path).at(-1);
}

function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
