// Mounting one overlayfs workspace: its lower layers (newest first, the base last), its upper
// and work dirs, and the merged mountpoint the runtime uses. The mount source carries the
// engine's tag, so orphaned overlay mounts show up in /proc/mounts under our name.
import { AgentisoError } from "../core/errors.js";
import { runCommand } from "../core/run-command.js";
import { hasSafeFlags, mountAt, SAFE_FLAGS } from "./mount-table.js";

export interface OverlayLayers {
  /** Mount source shown in /proc/mounts, e.g. "ais3f9a2c-ws-<name>". */
  source: string;
  /** Read-only layers, topmost first. */
  lowers: readonly string[];
  upper: string;
  work: string;
  merged: string;
}

// Neither the inode index nor redirects/metacopy: they would tie an upper dir to the exact lower
// inodes it was made on, and our snapshots reuse upper dirs as lower layers of forks.
// SAFE_FLAGS: a setuid file or device node a workspace wrote gives nothing through the mount
const FIXED_OPTIONS = `index=off,redirect_dir=off,metacopy=off,${SAFE_FLAGS}`;

// Mounts the overlay unless something is already mounted at its merged dir.
export async function mountOverlay(layers: OverlayLayers): Promise<void> {
  const existing = await mountAt(layers.merged);
  if (existing) {
    if (existing.fstype === "overlay" && existing.source === layers.source) {
      // mounted by an older version without them
      if (!hasSafeFlags(existing.options)) await runCommand(["mount", "-o", `remount,${SAFE_FLAGS}`, "--", layers.merged]);
      return;
    }
    throw new AgentisoError("CONFLICT", `${layers.merged} is already mounted (${existing.fstype} from ${existing.source}): unmount it`);
  }
  for (const dir of [...layers.lowers, layers.upper, layers.work]) {
    if (/[,:\\]/.test(dir)) throw new AgentisoError("INVALID_INPUT", `overlay layer path ${dir} contains a comma, colon or backslash`);
  }
  const options = `lowerdir=${layers.lowers.join(":")},upperdir=${layers.upper},workdir=${layers.work},${FIXED_OPTIONS}`;
  await runCommand(["mount", "-t", "overlay", "-o", options, "--", layers.source, layers.merged]);
}

// Unmounts the merged dir if mounted; BACKEND_FAILED (EBUSY) while a runtime still uses it.
export async function unmountOverlay(merged: string): Promise<void> {
  if (await mountAt(merged)) await runCommand(["umount", "--", merged]);
}
