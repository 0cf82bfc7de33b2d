// Storage benchmark: per driver, the p50 latency of forking a prepared workspace of 10 MB and
// of 1 GiB, against a full copy (`cp -a --reflink=never`) of the same workspaces in the same
// run. The golden-snapshot pattern needs the fork to cost the same whatever the size.
import { mkdtemp, open, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchPart } from "../index.js";
import { ms, percentile } from "../stats.js";
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { runCommand } from "../../src/core/run-command.js";
import { BtrfsStorage } from "../../src/storage/btrfs-storage.js";
import { OverlayStorage } from "../../src/storage/overlay-storage.js";
import { ZfsStorage } from "../../src/storage/zfs-storage.js";
import type { StorageDriver } from "../../src/storage/storage-driver.js";
import { createTestPool, ensureZfsFuse } from "../../test/support/storage-zfs-fuse.js";

const MiB = 1024 * 1024;
const SIZES = [
  { label: "10 MB", bytes: 10 * MiB, copies: 5 },
  { label: "1 GiB", bytes: 1024 * MiB, copies: 3 },
];
const FORKS_PER_SIZE = 15;
const WARMUP = 2;

interface Rig {
  driver: StorageDriver;
  /** Where the cp -a baseline writes its copies (same filesystem as the workspaces). */
  copyDir: string;
  teardown(): Promise<void>;
}

const part: BenchPart = {
  name: "storage: fork latency, 10 MB vs 1 GiB workspace, vs cp -a",
  unavailable: async () => {
    if (process.getuid?.() !== 0) return "needs root (loop devices, mounts)";
    const probe = await runCommand(["sh", "-c", "command -v mkfs.btrfs"], { check: false });
    return probe.exitCode === 0 ? undefined : "mkfs.btrfs missing (apt-get install btrfs-progs)";
  },
  async run(report) {
    for (const [name, makeRig] of Object.entries(RIGS)) {
      const stateDir = await mkdtemp(join(tmpdir(), `ais-bench-${name}-`));
      try {
        const rig = await makeRig(stateDir).catch((err: unknown) => report(`${name}: skipped (${(err as Error).message})`));
        if (rig) await benchDriver(name, rig, report).finally(() => rig.teardown());
      } finally {
        await rm(stateDir, { recursive: true, force: true });
      }
    }
  },
};
export default part;

const RIGS: Record<string, (stateDir: string) => Promise<Rig>> = {
  btrfs: async (stateDir) => {
    const driver = new BtrfsStorage({ stateDir, tag: resourceTagFor(stateDir), logger: silentLogger, loopPoolSizeBytes: 16 * 1024 * MiB });
    await driver.setup();
    return { driver, copyDir: join(stateDir, "pool", "mnt"), teardown: () => driver.close() };
  },
  overlay: async (stateDir) => {
    const driver = new OverlayStorage({ rootDir: join(stateDir, "overlay"), tag: resourceTagFor(stateDir), logger: silentLogger });
    await driver.setup();
    return { driver, copyDir: stateDir, teardown: () => driver.close() };
  },
  "zfs-fuse": async (stateDir) => {
    const daemon = await ensureZfsFuse(stateDir);
    const pool = await createTestPool(stateDir, 8 * 1024 * MiB);
    const driver = new ZfsStorage({ pool: pool.name, tag: resourceTagFor(stateDir), logger: silentLogger, zvols: false });
    await driver.setup();
    const teardown = async () => {
      try {
        await driver.close();
        await pool.destroy();
      } finally {
        await daemon.stop();
      }
    };
    return { driver, copyDir: pool.mountPoint, teardown };
  },
};

async function benchDriver(name: string, rig: Rig, report: (line: string) => void): Promise<void> {
  const { driver } = rig;
  const emptyDir = await mkdtemp(join(tmpdir(), "ais-bench-base-"));
  await driver.importBase("empty", { kind: "rootfs-dir", path: emptyDir });
  await rm(emptyDir, { recursive: true });
  try {
    const goldens = [];
    for (const size of SIZES) goldens.push({ size, ...(await prepareGolden(driver, size.bytes)) });
    // Flush writeback now, so it does not land inside the fork timings.
    await runCommand(["sync"]);
    // Forks of both sizes alternate, so both see the same background load on a shared machine.
    const forks = SIZES.map(() => [] as number[]);
    for (let i = 0; i < FORKS_PER_SIZE + WARMUP; i++) {
      for (const [k, golden] of goldens.entries()) {
        const elapsed = await timed(() => driver.forkWorkspace(`${golden.ws}-fork-${i}`, { from: golden.ws, snapshot: "golden" }));
        if (i >= WARMUP) forks[k]!.push(elapsed);
      }
    }
    const p50 = new Map<string, { fork: number; copy: number }>();
    for (const [k, { size, ws, dir, snapshotMs }] of goldens.entries()) {
      const copy = (i: number) => join(rig.copyDir, `copy-${size.bytes}-${i}`);
      const copies = await timeEach(size.copies, (i) => copyTree(dir, copy(i)), (i) => rm(copy(i), { recursive: true }));
      p50.set(size.label, { fork: percentile(forks[k]!, 50), copy: percentile(copies, 50) });
      report(`${name} ${size.label}: snapshot ${ms(snapshotMs)}, fork p50 ${ms(percentile(forks[k]!, 50))} (p90 ${ms(percentile(forks[k]!, 90))}), cp -a p50 ${ms(percentile(copies, 50))}`);
      for (let i = 0; i < FORKS_PER_SIZE + WARMUP; i++) await driver.destroyWorkspace(`${ws}-fork-${i}`);
    }
    summarize(name, p50, report);
  } finally {
    await destroyAll(driver);
  }
}

// A workspace holding sizeBytes of data, snapshotted as "golden" (the snapshot is timed).
async function prepareGolden(driver: StorageDriver, sizeBytes: number): Promise<{ ws: string; dir: string; snapshotMs: number }> {
  const ws = `golden-${sizeBytes}`;
  await driver.createWorkspace(ws, { base: "empty" });
  const dir = await directory(driver, ws);
  await writeBytes(join(dir, "data.bin"), sizeBytes);
  const snapshotMs = await timed(() => driver.snapshot(ws, "golden"));
  return { ws, dir, snapshotMs };
}

async function destroyAll(driver: StorageDriver): Promise<void> {
  const all = await driver.listWorkspaces();
  for (const w of [...all.filter((w) => w.forkedFrom), ...all.filter((w) => !w.forkedFrom)]) await driver.destroyWorkspace(w.name).catch(() => undefined);
  await driver.deleteBase("empty").catch(() => undefined);
}

function summarize(name: string, p50: Map<string, { fork: number; copy: number }>, report: (line: string) => void): void {
  const small = p50.get("10 MB")!;
  const big = p50.get("1 GiB")!;
  const sizeRatio = big.fork / small.fork;
  const speedup = big.copy / big.fork;
  // The goal is set for btrfs, the default pool on machines without ZFS.
  const verdict = (ok: boolean) => (name === "btrfs" ? `, goal ${ok ? "met" : "MISSED"}` : "");
  report(`${name} => 1 GiB fork / 10 MB fork = ${sizeRatio.toFixed(2)}x (goal ≤ 1.2x${verdict(sizeRatio <= 1.2)}); ` +
    `fork of 1 GiB is ${speedup.toFixed(0)}x faster than cp -a (goal > 50x${verdict(speedup > 50)})`);
}

// Times each of count runs of fn (i counts warmup runs too); cleanup runs untimed after each.
async function timeEach(count: number, fn: (i: number) => Promise<unknown>, cleanup?: (i: number) => Promise<unknown>, warmup = WARMUP): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count + warmup; i++) {
    const elapsed = await timed(() => fn(i));
    if (i >= warmup) samples.push(elapsed);
    await cleanup?.(i);
  }
  return samples;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

// The baseline: a full copy (coreutils >= 9 would otherwise reflink on btrfs, which is itself CoW).
async function copyTree(from: string, to: string): Promise<void> {
  await runCommand(["cp", "-a", "--reflink=never", "--", from, to], { timeoutMs: 10 * 60_000 });
}

async function writeBytes(path: string, sizeBytes: number): Promise<void> {
  const chunk = randomBytes(MiB);
  const file = await open(path, "w");
  try {
    for (let written = 0; written < sizeBytes; written += MiB) await file.write(chunk, 0, Math.min(MiB, sizeBytes - written));
    await file.sync();
  } finally {
    await file.close();
  }
}

async function directory(driver: StorageDriver, workspace: string): Promise<string> {
  const handle = await driver.rootfs(workspace);
  if (handle.kind !== "directory") throw new Error(`${workspace} is not a directory volume`);
  return handle.path;
}
