// Turning an image source (rootfs directory, tarball, raw disk image) into the content of a
// base volume: a directory tree for containers, or a raw ext4 disk image for microVMs.
// Shared by every driver; the driver decides where the bytes land.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import { runCommand } from "../core/run-command.js";
import type { BaseSource } from "./storage-driver.js";

const IMPORT_TIMEOUT_MS = 30 * 60_000;
/** Free room left in an ext4 image built from a directory, on top of the tree itself. */
const DISK_IMAGE_HEADROOM_BYTES = 512 * 1024 * 1024;

// Fails with NOT_FOUND (naming the path) when an import source is missing.
export async function assertSourceExists(source: BaseSource): Promise<void> {
  const info = await stat(source.path).catch(() => undefined);
  const wantDir = source.kind === "rootfs-dir";
  if (!info || info.isDirectory() !== wantDir) {
    const what = wantDir ? "directory" : "file";
    throw new AgentisoError("NOT_FOUND", `image source ${source.path} is not an existing ${what}`);
  }
}

// Fills an existing empty directory with the source's tree (ownership, modes, xattrs kept).
export async function populateDirectory(source: BaseSource, target: string, signal?: AbortSignal): Promise<void> {
  const options = { timeoutMs: IMPORT_TIMEOUT_MS, signal };
  if (source.kind === "rootfs-dir") {
    await runCommand(["cp", "-a", "--reflink=auto", "--", `${source.path}/.`, `${target}/`], options);
  } else if (source.kind === "tarball") {
    // GNU tar detects gzip/xz/zstd itself and refuses members that climb out with "..".
    await runCommand(["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", source.path, "-C", target], options);
  } else {
    throw new AgentisoError("INVALID_INPUT", "a disk image can only be imported as a block base (layout: \"block\")");
  }
}

// Writes a raw disk image at imagePath: a copy of a disk-image source, or a fresh ext4 built
// from a directory tree (mkfs.ext4 -d), sized to the tree plus headroom. Sparse either way.
export async function buildDiskImage(source: BaseSource, imagePath: string, scratchDir: string, signal?: AbortSignal): Promise<void> {
  const options = { timeoutMs: IMPORT_TIMEOUT_MS, signal };
  if (source.kind === "disk-image") {
    await runCommand(["cp", "--sparse=always", "--reflink=auto", "--", source.path, imagePath], options);
    return;
  }
  const tree = source.kind === "rootfs-dir" ? source.path : await mkdtemp(join(scratchDir, "import-"));
  try {
    if (source.kind === "tarball") await populateDirectory(source, tree, signal);
    const sizeBytes = roundUpMiB((await directorySizeBytes(tree)) * 1.25 + DISK_IMAGE_HEADROOM_BYTES);
    await runCommand(["truncate", "-s", String(sizeBytes), "--", imagePath], options);
    await runCommand(["mkfs.ext4", "-q", "-F", "-d", tree, "--", imagePath], options);
  } finally {
    if (tree !== source.path) await rm(tree, { recursive: true, force: true });
  }
}

// Bytes a directory tree occupies on disk (du), for BaseInfo.sizeBytes and image sizing.
export async function directorySizeBytes(path: string): Promise<number> {
  const { stdout } = await runCommand(["du", "-s", "-B1", "-x", "--", path]);
  return Number.parseInt(stdout.split(/\s/)[0] ?? "0", 10) || 0;
}

function roundUpMiB(bytes: number): number {
  const mib = 1024 * 1024;
  return Math.ceil(bytes / mib) * mib;
}
