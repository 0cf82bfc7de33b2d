// Memory snapshots in the engine (engine/memory-snapshots.ts), over fake storage and a fake
// runtime that "saves" a machine as a marker file: when one may be taken, what is recorded,
// which forks and restores resume it, and that the file goes with its snapshot.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.js";
import type { GuestLink } from "../../src/engine/engine-deps.js";
import { GuestLinks } from "../../src/engine/guest-links.js";
import { memoryPathOf } from "../../src/engine/memory-paths.js";
import { quotaRefusal, resumeRefusal } from "../../src/engine/memory-snapshots.js";
import type { WorkspaceRecord } from "../../src/engine/workspace-record.js";
import { isAgentisoError } from "../../src/core/errors.js";
import type { MemorySaveSteps, RuntimeInstance, RuntimeStartSpec } from "../../src/runtimes/workspace-runtime.js";
import { FakeStorage } from "../support/fake-storage.js";
import { fakeEngineDeps } from "../support/fake-engine-deps.js";
import { FakeRuntime, noTunnels } from "../support/fake-runtime.js";

const DEFAULTS = { image: "base", runtime: "container" as const, memoryMiB: 512, cpus: 1, diskBytes: 4 * 2 ** 30, pidsLimit: 256, network: "none" as const };
const MACHINE = { memoryMiB: 512, cpus: 1, pidsLimit: 256, compatibility: "fake-1" };

// A runtime that saves machines (as a vm does): records the order of the steps it was given.
class SavingRuntime extends FakeRuntime {
  readonly starts: RuntimeStartSpec[] = [];
  readonly steps: string[] = [];
  compatibility = "fake-1";
  async saveMemory(workspaceId: string, memoryPath: string, steps: MemorySaveSteps) {
    this.steps.push(`detached:${await steps.detachHost()}`);
    writeFileSync(memoryPath, `machine of ${workspaceId}`);
    this.steps.push("saved");
    await steps.atSameInstant();
    this.steps.push("running again");
    return { sizeBytes: 4242, durationMs: 1 };
  }
  async templateCompatibility() {
    return this.compatibility;
  }
  override async start(spec: RuntimeStartSpec): Promise<RuntimeInstance> {
    this.starts.push(spec);
    return super.start(spec);
  }
}

interface Rig {
  engine: Engine;
  storage: FakeStorage;
  runtime: SavingRuntime;
  stateDir: string;
  clockSyncs: number;
}

async function withEngine(fn: (rig: Rig) => Promise<void>, withSaving = true): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "agentiso-memsnap-"));
  const storage = new FakeStorage();
  const runtime = new SavingRuntime();
  const rig = { storage, runtime, stateDir, clockSyncs: 0 } as Rig;
  if (!withSaving) (runtime as { saveMemory?: unknown }).saveMemory = undefined;
  const deps = fakeEngineDeps(stateDir, storage, runtime, {
    guests: { connect: async () => ({ close: async () => {} }), syncDisk: async () => {}, setHostname: async () => {}, openTunnel: noTunnels, syncClock: async () => void rig.clockSyncs++ },
  });
  rig.engine = (await Engine.open(deps, DEFAULTS)).engine;
  try {
    await fn(rig);
  } finally {
    await rig.engine.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => isAgentisoError(err) && err.code === code && message.test(err.message));
}

describe("memory snapshots in the engine", () => {
  test("a memory snapshot saves the machine after closing the agent connection, snapshots the disk before it runs again, and records the size", () =>
    withEngine(async (rig) => {
      const { engine, storage, runtime, stateDir } = rig;
      const ws = await engine.workspaces.create({ name: "src" });
      await engine.workspaces.guest(ws.id); // a connected agent
      const snap = await engine.snapshots.create(ws.id, "m", { includeMemory: true });
      assert.equal(snap.memoryBytes, 4242);
      assert.deepEqual(runtime.steps, ["detached:true", "saved", "running again"]);
      assert.ok((await storage.listSnapshots(ws.id)).some((s) => s.name === "m"), "the disk snapshot exists");
      assert.equal(readFileSync(memoryPathOf(stateDir, ws.id, "m"), "utf8"), `machine of ${ws.id}`);
      assert.deepEqual(engine.snapshots.list(ws.id).map((s) => [s.name, s.memoryBytes]), [["m", 4242]]);
      assert.equal(engine.snapshots.list(ws.id)[0]!.memoryBytes, 4242);
      assert.ok(!("memory" in engine.snapshots.list(ws.id)[0]!), "callers see the size, not the machine");
      assert.equal(rig.clockSyncs, 1, "the clock that stood still while saving is set again");
    }));

  test("forks with the saved machine's resources resume it; a fork with other memory, a changed runtime or a lost file boots cold", () =>
    withEngine(async ({ engine, runtime, stateDir }) => {
      const ws = await engine.workspaces.create({ name: "src" });
      await engine.snapshots.create(ws.id, "m", { includeMemory: true });
      await engine.snapshots.create(ws.id, "disk");
      runtime.starts.length = 0;
      await engine.snapshots.fork(ws.id, { snapshot: "m", count: 2, namePrefix: "f" });
      await engine.snapshots.fork(ws.id, { snapshot: "m", name: "big", memoryMiB: 1024 });
      await engine.snapshots.fork(ws.id, { snapshot: "disk", name: "cold" });
      runtime.compatibility = "fake-2";
      await engine.snapshots.fork(ws.id, { snapshot: "m", name: "rebuilt" });
      runtime.compatibility = "fake-1";
      const memoryPath = memoryPathOf(stateDir, ws.id, "m");
      rmSync(memoryPath);
      await engine.snapshots.fork(ws.id, { snapshot: "m", name: "lost" });
      assert.deepEqual(runtime.starts.map((s) => s.fromTemplate?.memoryPath), [memoryPath, memoryPath, undefined, undefined, undefined, undefined]);
    }));

  test("restore of a running workspace to a memory snapshot resumes the saved machine; of a stopped one boots nothing", () =>
    withEngine(async ({ engine, runtime, stateDir }) => {
      const ws = await engine.workspaces.create({ name: "src" });
      await engine.snapshots.create(ws.id, "m", { includeMemory: true });
      runtime.starts.length = 0;
      assert.equal((await engine.snapshots.restore(ws.id, "m")).state, "running");
      assert.equal(runtime.starts[0]?.fromTemplate?.memoryPath, memoryPathOf(stateDir, ws.id, "m"));
      await engine.workspaces.stop(ws.id);
      assert.equal((await engine.snapshots.restore(ws.id, "m")).state, "stopped");
      await engine.workspaces.start(ws.id);
      assert.equal(runtime.starts.length, 2);
      assert.equal(runtime.starts[1]?.fromTemplate, undefined, "a later start boots cold");
    }));

  test("the memory file is deleted with its snapshot and with its workspace", () =>
    withEngine(async ({ engine, stateDir }) => {
      const ws = await engine.workspaces.create({ name: "src" });
      await engine.snapshots.create(ws.id, "a", { includeMemory: true });
      await engine.snapshots.create(ws.id, "b", { includeMemory: true });
      await engine.snapshots.delete(ws.id, "a");
      assert.equal(existsSync(memoryPathOf(stateDir, ws.id, "a")), false);
      assert.equal(existsSync(memoryPathOf(stateDir, ws.id, "b")), true);
      await engine.workspaces.destroy(ws.id);
      assert.equal(existsSync(join(stateDir, "memory", ws.id)), false);
    }));

  test("refused: a runtime that cannot save machines (containers), a stopped workspace, network egress", async () => {
    await withEngine(async ({ engine }) => {
      const ws = await engine.workspaces.create({ name: "box" });
      assert.equal(engine.snapshots.canIncludeMemory(ws.id), false);
      await rejects(engine.snapshots.create(ws.id, "m", { includeMemory: true }), "UNSUPPORTED", /only vm workspaces can save their memory.*snapshot without memory/);
      assert.deepEqual(engine.snapshots.list(ws.id), [], "nothing was recorded");
    }, false);
    await withEngine(async ({ engine, storage }) => {
      const stopped = await engine.workspaces.create({ name: "stopped" });
      await engine.workspaces.stop(stopped.id);
      await rejects(engine.snapshots.create(stopped.id, "m", { includeMemory: true }), "INVALID_STATE", /stopped: only a running VM has memory to save/);
      const online = await engine.workspaces.create({ name: "online", network: "egress" });
      await rejects(engine.snapshots.create(online.id, "m", { includeMemory: true }), "UNSUPPORTED", /network egress.*MAC address/);
      assert.deepEqual(await storage.listSnapshots(online.id), [], "no disk snapshot was left behind");
    });
  });

  test("a failed save leaves neither the disk snapshot nor the memory file", () =>
    withEngine(async ({ engine, storage, runtime, stateDir }) => {
      const ws = await engine.workspaces.create({ name: "src" });
      runtime.saveMemory = async (_id, path, steps) => {
        writeFileSync(path, "half");
        await steps.atSameInstant();
        throw new Error("migration failed");
      };
      await assert.rejects(engine.snapshots.create(ws.id, "m", { includeMemory: true }), /migration failed/);
      assert.deepEqual(await storage.listSnapshots(ws.id), []);
      assert.equal(existsSync(memoryPathOf(stateDir, ws.id, "m")), false);
      assert.deepEqual(engine.snapshots.list(ws.id), []);
    }));

  test("a restarted engine removes memory files no snapshot owns", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "agentiso-memsnap-"));
    try {
      mkdirSync(join(stateDir, "memory", "gone"), { recursive: true });
      writeFileSync(join(stateDir, "memory", "gone", "x.bin"), "stray");
      const storage = new FakeStorage();
      const deps = fakeEngineDeps(stateDir, storage, new SavingRuntime());
      const { engine } = await Engine.open(deps, DEFAULTS);
      await engine.close();
      assert.equal(existsSync(join(stateDir, "memory", "gone")), false);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe("memory snapshot rules", () => {
  const record = { name: "w", memoryMiB: 512, cpus: 1, pidsLimit: 256, network: "none", diskBytes: 1 << 30 } as WorkspaceRecord;

  test("a saved machine resumes only into the same resources, no network and the same runtime build", () => {
    assert.equal(resumeRefusal(MACHINE, record, "fake-1"), undefined);
    assert.match(resumeRefusal(MACHINE, { ...record, memoryMiB: 1024, cpus: 2 }, "fake-1")!, /memoryMiB, cpus differ .*memoryMiB 512, cpus 1, pidsLimit 256/);
    assert.match(resumeRefusal(MACHINE, { ...record, pidsLimit: 64 }, "fake-1")!, /pidsLimit differ/);
    assert.match(resumeRefusal(MACHINE, { ...record, network: "egress" }, "fake-1")!, /network device/);
    assert.match(resumeRefusal(MACHINE, record, "fake-2")!, /changed since the memory was saved/);
    assert.match(resumeRefusal(MACHINE, record, undefined)!, /changed/);
  });

  test("memory files count toward the disk limit, with the volume's use and the other memory files", () => {
    assert.equal(quotaRefusal(record, 100 << 20, 0), undefined);
    const refusal = quotaRefusal(record, 400 << 20, 200 << 20);
    assert.equal(refusal?.code, "QUOTA_EXCEEDED");
    assert.match(refusal!.message, /passes its disk limit \(1073741824\)/);
  });
});

describe("GuestLinks.whileDetached", () => {
  test("closes the connection, holds back new ones until the work is done, and keeps the endpoint", async () => {
    const events: string[] = [];
    let made = 0;
    const links = new GuestLinks<GuestLink>({
      connect: async () => {
        const n = ++made;
        events.push(`connect ${n}`);
        return { close: async () => void events.push(`close ${n}`) };
      },
      syncDisk: async () => {},
      setHostname: async () => {},
      openTunnel: noTunnels,
    });
    const ws = { id: "w1", name: "w1" };
    links.remember(ws.id, { kind: "unix", path: "/x", singleStream: true });
    await links.connect(ws, async () => undefined);
    let waiting: Promise<GuestLink> | undefined;
    const result = await links.whileDetached(ws.id, async (detach) => {
      assert.equal(await detach(), true);
      assert.equal(await detach(), false, "nothing left to close");
      waiting = links.connect(ws, async () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
      events.push("saved");
      return 7;
    });
    assert.equal(result, 7);
    await waiting;
    assert.deepEqual(events, ["connect 1", "close 1", "saved", "connect 2"]);
  });
});
