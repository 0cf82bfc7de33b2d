// The QMP client and memory snapshots against real QEMU 7.2 microVMs under TCG. No guest
// kernel is needed: the firmware idles, which is enough to stop, migrate, restore and resume.
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { QmpClient, type QmpEvent } from "../../src/runtimes/vm/qmp-client.js";
import { restoreMemorySnapshot, saveMemorySnapshot } from "../../src/runtimes/vm/memory-snapshot.js";
import { hasCommand, requires } from "../support/prereq.js";
import { pidsWithMarker, waitForNoProcess } from "../support/processes.js";

const skip = requires(hasCommand("qemu-system-x86_64"));
const suffix = Math.random().toString(36).slice(2, 8);
const marker = `aisqmp-${suffix}`;
let scratch: string | undefined;
const started: ChildProcess[] = [];

async function scratchDir(): Promise<string> {
  scratch ??= await mkdtemp(`/tmp/ais-qmp-${suffix}-`);
  return scratch;
}

interface Qemu {
  child: ChildProcess;
  qmpPath: string;
  exited: Promise<unknown>;
}

// Starts a microVM under TCG; `name` (with this run's marker) appears in argv as -name.
async function startQemu(name: string, extra: string[] = []): Promise<Qemu> {
  const qmpPath = join(await scratchDir(), `${name}.qmp`);
  const argv = ["-M", "microvm,pit=on,pic=on", "-accel", "tcg", "-nodefaults", "-display", "none", "-m", "64", "-name", `${marker}-${name}`];
  const child = spawn("qemu-system-x86_64", [...argv, "-qmp", `unix:${qmpPath},server=on,wait=off`, ...extra], { stdio: ["ignore", "ignore", "pipe"] });
  started.push(child);
  return { child, qmpPath, exited: once(child, "exit") };
}

after(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  assert.deepEqual(await waitForNoProcess(marker), [], "no QEMU of this run survives");
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("QMP client on a real QEMU", { skip }, () => {
  test("reports the running status, and stop/cont emit STOP and RESUME events", async () => {
    const qemu = await startQemu("status");
    await using qmp = await QmpClient.connect(qemu.qmpPath, { timeoutMs: 20_000 });
    assert.equal((await qmp.execute<{ status: string }>("query-status")).status, "running");
    const seen: string[] = [];
    const off = qmp.onEvent((e) => seen.push(e.event));
    const stopped = qmp.waitForEvent("STOP");
    await qmp.execute("stop");
    await stopped;
    assert.equal((await qmp.execute<{ status: string }>("query-status")).status, "paused");
    const resumed = qmp.waitForEvent("RESUME");
    await qmp.execute("cont");
    const event: QmpEvent = await resumed;
    assert.equal(typeof event.timestamp?.seconds, "number");
    off();
    assert.deepEqual(seen, ["STOP", "RESUME"]);
    qemu.child.kill("SIGKILL");
  });

  test("an unknown command is a BACKEND_FAILED error naming QMP's class and leaves the client usable", async () => {
    const qemu = await startQemu("error");
    await using qmp = await QmpClient.connect(qemu.qmpPath, { timeoutMs: 20_000 });
    await assert.rejects(qmp.execute("no-such-command"), (err) => isAgentisoError(err, "BACKEND_FAILED") && /CommandNotFound/.test(err.message));
    assert.equal((await qmp.execute<{ running: boolean }>("query-status")).running, true);
    qemu.child.kill("SIGKILL");
  });

  test("quit resolves, and closed resolves as QEMU exits", async () => {
    const qemu = await startQemu("quit");
    const qmp = await QmpClient.connect(qemu.qmpPath, { timeoutMs: 20_000 });
    await qmp.execute("quit");
    await qmp.closed;
    await qemu.exited;
    await assert.rejects(qmp.execute("query-status"), (err) => isAgentisoError(err, "GUEST_UNREACHABLE"));
  });

  test("a QEMU that dies mid-request fails the pending call and event waits with GUEST_UNREACHABLE", async () => {
    const qemu = await startQemu("killed");
    const qmp = await QmpClient.connect(qemu.qmpPath, { timeoutMs: 20_000 });
    // frozen by SIGSTOP, QEMU cannot answer: the request is certainly pending when it dies
    qemu.child.kill("SIGSTOP");
    const waiting = qmp.waitForEvent("RESUME", { timeoutMs: 60_000 });
    const pending = qmp.execute("query-status", undefined, { timeoutMs: 60_000 });
    qemu.child.kill("SIGKILL");
    await assert.rejects(pending, (err) => isAgentisoError(err, "GUEST_UNREACHABLE") && /QMP socket closed/.test(err.message));
    await assert.rejects(waiting, (err) => isAgentisoError(err, "GUEST_UNREACHABLE"));
    await qmp.closed;
  });
});

describe("memory snapshots on a real QEMU", { skip }, () => {
  test("a saved VM restores into a second QEMU started with -incoming defer and runs", async () => {
    const dir = await scratchDir();
    const file = join(dir, "memory.snap");
    const source = await startQemu("save");
    await using from = await QmpClient.connect(source.qmpPath, { timeoutMs: 20_000 });
    const saved = await saveMemorySnapshot(from, file);
    assert.equal((await stat(file)).size, saved.sizeBytes);
    assert.ok(saved.sizeBytes > 0);
    assert.equal((await from.execute<{ running: boolean }>("query-status")).running, false, "the source stays paused");
    await from.execute("quit");

    const target = await startQemu("restore", ["-incoming", "defer"]);
    await using to = await QmpClient.connect(target.qmpPath, { timeoutMs: 20_000 });
    assert.equal((await to.execute<{ status: string }>("query-status")).status, "inmigrate");
    await restoreMemorySnapshot(to, file);
    assert.equal((await to.execute<{ status: string }>("query-status")).status, "running");
    await to.execute("quit");
    await Promise.all([source.exited, target.exited]);
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes(".partial")), [], "no partial snapshot left behind");
  });

  test("after a save the source VM can continue running", async () => {
    const source = await startQemu("continue");
    await using qmp = await QmpClient.connect(source.qmpPath, { timeoutMs: 20_000 });
    await saveMemorySnapshot(qmp, join(await scratchDir(), "continue.snap"));
    await qmp.execute("cont");
    assert.equal((await qmp.execute<{ status: string }>("query-status")).status, "running");
    source.child.kill("SIGKILL");
  });

  test("a corrupt snapshot fails the restore with an error instead of hanging", async () => {
    const file = join(await scratchDir(), "corrupt.snap");
    await writeFile(file, Buffer.alloc(64 * 1024, 0x5a));
    const target = await startQemu("corrupt", ["-incoming", "defer"]);
    await using qmp = await QmpClient.connect(target.qmpPath, { timeoutMs: 20_000 });
    // QEMU 7.2 exits when an incoming migration fails: either the MIGRATION failed event or the closed socket
    await assert.rejects(restoreMemorySnapshot(qmp, file, { timeoutMs: 60_000 }), (err) => isAgentisoError(err, "BACKEND_FAILED") || isAgentisoError(err, "GUEST_UNREACHABLE"));
    target.child.kill("SIGKILL");
  });

  test("restoring a missing snapshot file is NOT_FOUND and the waiting QEMU is untouched", async () => {
    const target = await startQemu("missing", ["-incoming", "defer"]);
    await using qmp = await QmpClient.connect(target.qmpPath, { timeoutMs: 20_000 });
    await assert.rejects(restoreMemorySnapshot(qmp, join(await scratchDir(), "nope.snap")), (err) => isAgentisoError(err, "NOT_FOUND"));
    assert.equal((await qmp.execute<{ status: string }>("query-status")).status, "inmigrate");
    target.child.kill("SIGKILL");
  });

  test("no QEMU started by these tests is left running", async () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    assert.deepEqual(await waitForNoProcess(marker), []);
    assert.deepEqual(pidsWithMarker(marker), []);
  });
});
