// Who still holds a filesystem the host unmounted: processes in other mount namespaces whose
// mount table still lists the device (a namespace created while it was mounted keeps a copy of
// the mount, and on a host whose / is private no umount propagates into it). Named in the error
// of a pool that will not let go of its loop device, so the operator knows what to stop.
import { readdir, readFile } from "node:fs/promises";

const MAX_LISTED = 5;

export interface MountHolder {
  pid: number;
  command: string;
}

// Processes whose mountinfo has a mount of the block device (e.g. /dev/loop3).
export async function mountHolders(device: string): Promise<MountHolder[]> {
  const holders: MountHolder[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const mountinfo = await readFile(`/proc/${entry}/mountinfo`, "utf8").catch(() => "");
    // the source follows the filesystem type after " - " (btrfs shows an anonymous major:minor, not the loop's)
    if (!mountinfo.split("\n").some((line) => line.split(" - ")[1]?.split(" ")[1] === device)) continue;
    const command = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).replaceAll("\0", " ").trim();
    holders.push({ pid: Number(entry), command: command.slice(0, 80) });
  }
  return holders;
}

export function describeHolders(holders: readonly MountHolder[]): string {
  if (holders.length === 0) return "";
  const listed = holders.slice(0, MAX_LISTED).map((h) => `pid ${h.pid} (${h.command || "?"})`).join(", ");
  const more = holders.length > MAX_LISTED ? ` and ${holders.length - MAX_LISTED} more` : "";
  return `: still mounted in the mount namespace of ${listed}${more}`;
}
