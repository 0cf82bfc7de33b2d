// Deleting a build directory safely. A recipe killed mid-way can leave mmdebstrap's mounts
// (proc, sysfs, devpts) inside its rootfs; a plain recursive delete would walk into them, and
// into the host's files if anything was bind-mounted. So: unmount whatever is mounted under
// the directory, then delete without crossing into another filesystem.
import { readFile } from "node:fs/promises";
import { runCommand } from "../core/run-command.js";

// Removes dir and everything under it (nothing if it is absent), never crossing a mount.
export async function removeTree(dir: string, signal?: AbortSignal): Promise<void> {
  const mounted = await mountPointsUnder(dir);
  if (mounted.length > 0) {
    // deepest first, lazily: a mount still busy disappears from the tree at once
    await runCommand(["umount", "-l", ...mounted.sort((a, b) => b.length - a.length)], { signal, check: false });
  }
  await runCommand(["rm", "-rf", "--one-file-system", "--", dir], { signal, timeoutMs: 600_000 });
}

// Mount points at or below dir, from this process's mountinfo.
export async function mountPointsUnder(dir: string): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const prefix = dir.endsWith("/") ? dir : dir + "/";
  return text
    .split("\n")
    .map((line) => unescapeMountPath(line.split(" ")[4] ?? ""))
    .filter((point) => point === dir || point.startsWith(prefix));
}

// mountinfo writes space, tab, newline and backslash as octal escapes (\040 ...).
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
