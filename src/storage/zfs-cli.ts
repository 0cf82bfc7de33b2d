// Thin wrappers over the zfs CLI. Dataset names are built from validated names under a
// configured pool, so none starts with "-". `zfs destroy` is retried a bounded number of times
// on "dataset is busy": zfs-fuse fails the first destroy of a fresh clone about half the time.
import { stat } from "node:fs/promises";
import { AgentisoError, isAgentisoError } from "../core/errors.js";
import { delay } from "../core/deadline.js";
import { runCommand, type RunResult } from "../core/run-command.js";

/** About 15 s in all: under load zfs-fuse stays busy for seconds after a clone was written. */
const BUSY_RETRIES = 20;
const BUSY_BACKOFF_MS = 100;
const BUSY_BACKOFF_MAX_MS = 1000;

// Runs one zfs subcommand and returns its stdout.
export async function zfs(args: readonly string[], signal?: AbortSignal): Promise<string> {
  return (await runCommand(["zfs", ...args], { signal, timeoutMs: 120_000 })).stdout;
}

// Reads one numeric property in bytes (-p: exact numbers).
export async function zfsBytes(dataset: string, property: string): Promise<number> {
  return Number((await zfs(["get", "-H", "-p", "-o", "value", property, dataset])).trim());
}

// Whether a dataset (or snapshot) exists.
export async function zfsExists(dataset: string): Promise<boolean> {
  const result: RunResult = await runCommand(["zfs", "list", "-H", "-o", "name", "-t", "all", dataset], { check: false });
  return result.exitCode === 0;
}

// Destroys a dataset (recursively: its snapshots too), retrying while zfs says it is busy.
export async function zfsDestroy(dataset: string, options: { recursive: boolean }): Promise<void> {
  const args = ["destroy", ...(options.recursive ? ["-r"] : []), dataset];
  for (let attempt = 1; ; attempt++) {
    try {
      await zfs(args);
      return;
    } catch (err) {
      if (!isBusy(err) || attempt >= BUSY_RETRIES) throw err;
      await delay(Math.min(BUSY_BACKOFF_MS * attempt, BUSY_BACKOFF_MAX_MS));
    }
  }
}

// Snapshot sizes: the bytes only each snapshot holds ("used"), by snapshot name. (zfs-fuse
// has no `zfs get -t`: -r lists the dataset and its snapshots, the dataset is filtered out.)
export async function zfsSnapshotUsed(dataset: string): Promise<Map<string, number>> {
  const out = await zfs(["get", "-H", "-p", "-r", "-o", "name,value", "used", dataset]);
  const sizes = new Map<string, number>();
  for (const line of out.split("\n").filter(Boolean)) {
    const [name = "", value = ""] = line.split("\t");
    const [owner, snapshot] = name.split("@");
    if (owner === dataset && snapshot) sizes.set(snapshot, Number(value));
  }
  return sizes;
}

// A zvol's /dev/zvol/... node appears asynchronously (udev) after create or clone.
export async function waitForDevice(path: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await stat(path).then(() => true, () => false))) {
    if (Date.now() > deadline) throw new AgentisoError("TIMEOUT", `zvol device ${path} did not appear within ${timeoutMs} ms`);
    await delay(50);
  }
}

function isBusy(err: unknown): boolean {
  return isAgentisoError(err, "BACKEND_FAILED") && /dataset is busy|device busy|resource busy/i.test(err.message);
}

// QUOTA_EXCEEDED unless the dataset's pool has at least minFreeBytes available.
export async function assertPoolSpace(dataset: string, minFreeBytes: number): Promise<void> {
  const available = await zfsBytes(dataset, "available");
  if (available < minFreeBytes) {
    throw new AgentisoError("QUOTA_EXCEEDED", `zfs pool of ${dataset} has ${available} bytes free, below the ${minFreeBytes}-byte reserve: free space or grow the pool`, {
      details: { availableBytes: available, minFreeBytes },
    });
  }
}
