// zfs-fuse for tests on machines without kernel ZFS: start the daemon unless one already
// answers (and then never stop it), create a throwaway pool on a sparse file, and destroy
// both afterwards. The daemon is stopped only if this helper started it, by its pid.
import { open, readFile, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { delay } from "../../src/core/deadline.js";

export interface ZfsFuseDaemon {
  /** Set when this helper started the daemon (and will stop it). */
  startedPid: number | undefined;
  stop(): Promise<void>;
}

export interface ZfsTestPool {
  name: string;
  mountPoint: string;
  destroy(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const POLL_MS = 50;

// True when a zfs daemon (kernel or fuse) answers `zpool list`.
export async function zfsAnswers(): Promise<boolean> {
  return (await runCommand(["zpool", "list", "-H"], { check: false, timeoutMs: 10_000 }).catch(() => ({ exitCode: 1 }))).exitCode === 0;
}

// Ensures a daemon answers; starts zfs-fuse (pid file in runDir) when none does.
export async function ensureZfsFuse(runDir: string): Promise<ZfsFuseDaemon> {
  if (await zfsAnswers()) return { startedPid: undefined, stop: () => Promise.resolve() };
  const pidFile = join(runDir, "zfs-fuse.pid");
  await runCommand(["zfs-fuse", "--pidfile", pidFile, "--no-kstat-mount"]);
  await waitFor(() => zfsAnswers(), "zfs-fuse to answer zpool list");
  const pid = Number.parseInt(await readFile(pidFile, "utf8"), 10);
  return { startedPid: pid, stop: () => stopDaemon(pid) };
}

// A pool on a sparse file under dir, named with a random suffix so runs never collide.
export async function createTestPool(dir: string, sizeBytes = 1024 ** 3): Promise<ZfsTestPool> {
  const name = `aistest${randomBytes(4).toString("hex")}`;
  const file = join(dir, `${name}.img`);
  const mountPoint = join(dir, "zfs-mnt");
  const handle = await open(file, "wx");
  await handle.truncate(sizeBytes);
  await handle.close();
  await runCommand(["zpool", "create", "-m", mountPoint, name, file]);
  return {
    name,
    mountPoint,
    destroy: async () => {
      await destroyPool(name);
      await rm(file, { force: true });
    },
  };
}

// zfs-fuse answers "pool is busy" for a while after datasets were destroyed: retry, bounded.
async function destroyPool(name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const result = await runCommand(["zpool", "destroy", "-f", name], { check: false });
    if (result.exitCode === 0) return;
    if (!/busy/i.test(result.stderr) || attempt >= 20) throw new Error(`zpool destroy ${name} failed: ${result.stderr.trim()}`);
    await delay(100 * attempt);
  }
}

async function stopDaemon(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  await waitFor(() => Promise.resolve(!isAlive(pid)), `zfs-fuse (pid ${pid}) to exit`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Polls a readiness check with a deadline (there is no event to wait on for another process).
async function waitFor(ready: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(POLL_MS);
  }
}
