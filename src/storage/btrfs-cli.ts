// Thin wrappers over the btrfs CLI. btrfs-progs rejects "--" in several subcommands, so every
// path is checked to be absolute instead: a path starting with "/" is never read as an option.
// Each spawn costs 8-15 ms here: deletes are batched into one call.
import { readFile } from "node:fs/promises";
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
// `qgroup`: the level-1 group the new subvolume joins ("1/N"; `createQgroup` creates it first).
export async function snapshotSubvolume(
  source: string,
  target: string,
  options: { readOnly: boolean; signal?: AbortSignal; qgroup?: string; createQgroup?: boolean; limitBytes?: number },
): Promise<void> {
  options.signal?.throwIfAborted();
  await snapshots.snapshot({
    source: absolute(source),
    target: absolute(target),
    readOnly: options.readOnly,
    ...(options.qgroup !== undefined && { qgroup: options.qgroup, createQgroup: options.createQgroup ?? false }),
    ...(options.qgroup !== undefined && options.createQgroup && options.limitBytes !== undefined && { limitBytes: options.limitBytes }),
  });
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

// The same on a level-1 qgroup ("1/N") of the filesystem mounted at (or holding) path.
export async function limitQgroup(qgroup: string, quotaBytes: number | undefined, path: string): Promise<void> {
  await btrfs(["qgroup", "limit", "-e", quotaBytes === undefined ? "none" : String(quotaBytes), qgroup, absolute(path)]);
}

// Destroys level-1 qgroups in one spawn; returns those that still have members (subvolumes the
// cleaner has not dropped yet) or failed otherwise (logged by the caller, retried later).
export async function destroyQgroups(qgroups: readonly string[], path: string): Promise<string[]> {
  if (qgroups.length === 0) return [];
  for (const id of qgroups) if (!/^[1-7]\/\d{1,15}$/.test(id)) throw new AgentisoError("INTERNAL", `not a higher-level qgroup id: ${JSON.stringify(id)}`);
  // prints the ids left: destroy failed for a reason other than "it is gone already"
  const script = 'p="$1"; shift; for q; do out=$(btrfs qgroup destroy "$q" "$p" 2>&1) || case "$out" in *"No such file"*|*"not exist"*) ;; *) echo "$q";; esac; done';
  const { stdout } = await runCommand(["sh", "-c", script, "sh", absolute(path), ...qgroups]);
  return stdout.split("\n").filter(Boolean);
}

/**
 * How the filesystem accounts space: "simple" (squota, kernel >= 6.7: each extent is charged to
 * the subvolume that wrote it for as long as it lives, so a group of subvolumes — a workspace
 * and its snapshots — can be limited without ever needing a rescan), "full" (classic qgroups:
 * referenced/exclusive by backref walks; adding a subvolume that shares data with one outside its
 * group to that group stops all accounting until a rescan), or "off".
 */
export type QuotaMode = "simple" | "full" | "off";

// Read from sysfs (/sys/fs/btrfs/<fsid>/qgroups/mode exists from kernel 6.7; before it quotas are full or off).
export async function quotaMode(path: string): Promise<QuotaMode> {
  const fsid = (await btrfs(["filesystem", "show", "--raw", absolute(path)])).stdout.match(/uuid: ([0-9a-f-]{36})/)?.[1];
  const mode = fsid ? (await readFile(`/sys/fs/btrfs/${fsid}/qgroups/mode`, "utf8").catch(() => undefined))?.trim() : undefined;
  if (mode === "squota") return "simple";
  if (mode === "qgroup") return "full";
  if (mode !== undefined) return "off";
  // no mode file: an older kernel; `qgroup show` answers only with quotas on
  return (await btrfs(["qgroup", "show", absolute(path)], { check: false })).exitCode === 0 ? "full" : "off";
}

/**
 * Turns simple quotas on for a filesystem without quotas. btrfs-progs learnt `quota enable
 * --simple` in 6.7 (Debian 12 ships 6.2), so this makes the ioctl itself — BTRFS_IOC_QUOTA_CTL
 * with BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA — through perl, which every Debian has (perl-base is
 * essential). False where the kernel refuses (before 6.7): the caller falls back to full quotas.
 */
export async function enableSimpleQuotas(mountPoint: string): Promise<boolean> {
  // struct btrfs_ioctl_quota_ctl_args { __u64 cmd; __u64 status; }; _IOWR(0x94, 40, 16 bytes) = 0xC0109428
  const script = 'open(my $fh, "<", $ARGV[0]) or die "open: $!\\n"; my $args = pack("QQ", 4, 0); ioctl($fh, 0xC0109428, $args) or die "ioctl: $!\\n";';
  const result = await runCommand(["perl", "-e", script, absolute(mountPoint)], { check: false });
  return result.exitCode === 0;
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

// Higher-level qgroups ("1/N") with their numbers, keyed by id (their path column names no subvolume).
export async function qgroupUsageById(mountPoint: string): Promise<Map<string, QgroupUsage>> {
  const { stdout } = await btrfs(["qgroup", "show", "--raw", "-re", absolute(mountPoint)]);
  return parseQgroupGroups(stdout);
}

// Both views of one `btrfs qgroup show --raw -re`: subvolumes by path, higher-level groups by id.
export async function qgroupUsageAll(mountPoint: string): Promise<{ byPath: Map<string, QgroupUsage>; byId: Map<string, QgroupUsage> }> {
  const { stdout } = await btrfs(["qgroup", "show", "--raw", "-re", absolute(mountPoint)]);
  return { byPath: parseQgroupShow(stdout), byId: parseQgroupGroups(stdout) };
}

// The level >= 1 rows of `btrfs qgroup show --raw -re`.
export function parseQgroupGroups(stdout: string): Map<string, QgroupUsage> {
  const usage = new Map<string, QgroupUsage>();
  for (const line of stdout.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5 || !/^[1-7]\/\d+$/.test(fields[0]!)) continue;
    usage.set(fields[0]!, toUsage(fields));
  }
  return usage;
}

// Parses `btrfs qgroup show --raw -re` (btrfs-progs 6.x: id, rfer, excl, max rfer, max excl, path).
export function parseQgroupShow(stdout: string): Map<string, QgroupUsage> {
  const usage = new Map<string, QgroupUsage>();
  for (const line of stdout.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6 || !/^0\/\d+$/.test(fields[0]!)) continue;
    usage.set(fields.slice(5).join(" "), toUsage(fields));
  }
  return usage;
}

function toUsage(fields: string[]): QgroupUsage {
  const [, referenced, exclusive, , maxExclusive] = fields;
  return {
    referencedBytes: Number(referenced),
    exclusiveBytes: Number(exclusive),
    ...(maxExclusive !== "none" ? { maxExclusiveBytes: Number(maxExclusive) } : {}),
  };
}

function btrfs(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runCommand(["btrfs", ...args], options);
}

function absolute(path: string): string {
  if (!isAbsolute(path)) throw new AgentisoError("INTERNAL", `btrfs paths must be absolute, got ${JSON.stringify(path)}`);
  return path;
}
