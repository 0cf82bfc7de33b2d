// Thin wrappers over the btrfs CLI. btrfs-progs rejects "--" in several subcommands, so every
// path is checked to be absolute instead: a path starting with "/" is never read as an option.
// Each spawn costs 8-15 ms here: deletes are batched into one call.
import { isAbsolute } from "node:path";
import { AgentisoError } from "../core/errors.js";
import { runCommand, type RunOptions, type RunResult } from "../core/run-command.js";
import { SnapshotBatcher } from "./btrfs-snapshot-batch.js";

export interface QgroupUsage {
  referencedBytes: number;
  exclusiveBytes: number;
  maxExclusiveBytes?: number;
}

// Creates an empty writable subvolume.
export async function createSubvolume(path: string, signal?: AbortSignal): Promise<void> {
  await btrfs(["subvolume", "create", absolute(path)], { signal });
}

const snapshots = new SnapshotBatcher();

// Copy-on-write snapshot: constant time whatever the subvolume's size. Concurrent calls share one
// transaction commit (btrfs-snapshot-batch.ts); once started a snapshot is not cancelled (it is
// short, and killing btrfs mid-ioctl would not undo it anyway), so the signal is checked up front.
export async function snapshotSubvolume(source: string, target: string, options: { readOnly: boolean; signal?: AbortSignal }): Promise<void> {
  options.signal?.throwIfAborted();
  await snapshots.snapshot({ source: absolute(source), target: absolute(target), readOnly: options.readOnly });
}

// Deletes subvolumes in one call (their space is reclaimed in the background).
export async function deleteSubvolumes(paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await btrfs(["subvolume", "delete", ...paths.map(absolute)]);
}

// Marks a subvolume read-only, as a base must be.
export async function setReadOnly(path: string): Promise<void> {
  await btrfs(["property", "set", "-ts", absolute(path), "ro", "true"]);
}

// Exclusive limit: referenced limits would block writes in snapshots sharing the data.
export async function limitExclusive(path: string, quotaBytes: number | undefined): Promise<void> {
  await btrfs(["qgroup", "limit", "-e", quotaBytes === undefined ? "none" : String(quotaBytes), absolute(path)]);
}

// Commits the running transaction so qgroup numbers include recent writes.
export async function syncFilesystem(path: string): Promise<void> {
  await btrfs(["filesystem", "sync", absolute(path)]);
}

// Qgroup numbers of every subvolume under mountPoint, keyed by path relative to the fs top level.
export async function qgroupUsageByPath(mountPoint: string): Promise<Map<string, QgroupUsage>> {
  const { stdout } = await btrfs(["qgroup", "show", "--raw", "-re", absolute(mountPoint)]);
  return parseQgroupShow(stdout);
}

// Parses `btrfs qgroup show --raw -re` (btrfs-progs 6.x: id, rfer, excl, max rfer, max excl, path).
export function parseQgroupShow(stdout: string): Map<string, QgroupUsage> {
  const usage = new Map<string, QgroupUsage>();
  for (const line of stdout.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6 || !/^0\/\d+$/.test(fields[0]!)) continue;
    const [, referenced, exclusive, , maxExclusive] = fields;
    const path = fields.slice(5).join(" ");
    usage.set(path, {
      referencedBytes: Number(referenced),
      exclusiveBytes: Number(exclusive),
      ...(maxExclusive !== "none" ? { maxExclusiveBytes: Number(maxExclusive) } : {}),
    });
  }
  return usage;
}

function btrfs(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runCommand(["btrfs", ...args], options);
}

function absolute(path: string): string {
  if (!isAbsolute(path)) throw new AgentisoError("INTERNAL", `btrfs paths must be absolute, got ${JSON.stringify(path)}`);
  return path;
}
