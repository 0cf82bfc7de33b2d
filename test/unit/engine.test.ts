// Engine lifecycle, snapshots, forks and reconcile over fake storage and runtime.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.js";
import type { EngineDeps, GuestLink } from "../../src/engine/engine-deps.js";
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { AgentisoError, isAgentisoError } from "../../src/core/errors.js";
import { FakeStorage } from "../support/fake-storage.js";
import { FakeRuntime, noTunnels } from "../support/fake-runtime.js";

const DEFAULTS = { image: "base", runtime: "container" as const, memoryMiB: 512, cpus: 1, diskBytes: 1 << 30, pidsLimit: 256, network: "none" as const };

function makeDeps(stateDir: string, storage = new FakeStorage(), runtime = new FakeRuntime()): EngineDeps<GuestLink> & { storage: FakeStorage; runtime: FakeRuntime } {
  return {
    stateDir,
    tag: resourceTagFor(stateDir),
    logger: silentLogger,
    storage,
    runtime,
    runtimes: { container: runtime },
    images: { ensureBase: async (image) => (await storage.importBase(image)).name },
    guests: { connect: async () => ({ close: async () => {} }), syncDisk: async () => {}, setHostname: async () => {}, openTunnel: noTunnels },
  };
}

async function withEngine(fn: (engine: Engine, deps: ReturnType<typeof makeDeps>, stateDir: string) => Promise<void>) {
  const stateDir = mkdtempSync(join(tmpdir(), "agentiso-engine-"));
  const deps = makeDeps(stateDir);
  const { engine } = await Engine.open(deps, DEFAULTS);
  try {
    await fn(engine, deps, stateDir);
  } finally {
    await engine.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function rejectsWith(code: string) {
  return (err: unknown) => isAgentisoError(err) && err.code === code;
}

describe("engine", () => {
  test("a created workspace is running and listed by name and id", () =>
    withEngine(async (engine) => {
      const ws = await engine.workspaces.create({ name: "alpha" });
      assert.equal(ws.state, "running");
      assert.equal(engine.workspaces.get("alpha").id, ws.id);
      assert.equal(engine.workspaces.get(ws.id).name, "alpha");
      assert.deepEqual(engine.workspaces.list().map((w) => w.name), ["alpha"]);
    }));

  test("a duplicate name is a CONFLICT and leaves no volume behind", () =>
    withEngine(async (engine, deps) => {
      await engine.workspaces.create({ name: "alpha" });
      await assert.rejects(engine.workspaces.create({ name: "alpha" }), rejectsWith("CONFLICT"));
      assert.equal(deps.storage.volumes.size, 1);
    }));

  test("invalid names are rejected before anything is created", () =>
    withEngine(async (engine, deps) => {
      for (const name of ["../etc", "-o", "", "UPPER", "a".repeat(64)]) {
        await assert.rejects(engine.workspaces.create({ name }), rejectsWith("INVALID_INPUT"));
      }
      assert.equal(deps.storage.volumes.size, 0);
    }));

  test("a failed start leaves no workspace, volume or instance", () =>
    withEngine(async (engine, deps) => {
      deps.runtime.failNextStart = true;
      await assert.rejects(engine.workspaces.create({ name: "broken" }), rejectsWith("BACKEND_FAILED"));
      assert.equal(engine.workspaces.list().length, 0);
      assert.equal(deps.storage.volumes.size, 0);
      assert.equal(deps.runtime.instances.size, 0);
    }));

  test("a start that returned before its agent listened: connects wait for it; one that never listens is failed, with why", () =>
    withEngine(async (engine, deps) => {
      let listen!: () => void;
      deps.runtime.readyOfNextStart = (pid) => new Promise((resolve) => (listen = () => resolve({ pid })));
      assert.equal((await engine.workspaces.create({ name: "slow" })).state, "running");
      let connected = false;
      const guest = engine.workspaces.guest("slow").then(() => (connected = true));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(connected, false, "no connection before the agent listens");
      listen();
      await guest;

      let die!: () => void;
      deps.runtime.readyOfNextStart = () => new Promise((_, reject) => (die = () => reject(new AgentisoError("GUEST_UNREACHABLE", "the workspace exited before its agent listened"))));
      await engine.workspaces.create({ name: "dead" });
      const waiting = engine.workspaces.guest("dead");
      die();
      await assert.rejects(waiting, /workspace dead did not start: the workspace exited before its agent listened/);
      const record = engine.workspaces.get("dead");
      assert.equal(record.state, "failed");
      assert.match(record.error ?? "", /exited before its agent listened/);
      await assert.rejects(engine.workspaces.guest("dead"), rejectsWith("INVALID_STATE"));
    }));

  test("stop then start goes through the valid states and exec-like access needs running", () =>
    withEngine(async (engine) => {
      await engine.workspaces.create({ name: "alpha" });
      assert.equal((await engine.workspaces.stop("alpha")).state, "stopped");
      await assert.rejects(engine.workspaces.guest("alpha"), rejectsWith("INVALID_STATE"));
      assert.equal((await engine.workspaces.start("alpha")).state, "running");
      await engine.workspaces.guest("alpha");
    }));

  test("forks record lineage, get prefixed names and see the snapshot's files only", () =>
    withEngine(async (engine, deps) => {
      const golden = await engine.workspaces.create({ name: "golden" });
      deps.storage.volume(golden.id).files.set("/repo/a.txt", "v1");
      await engine.snapshots.create("golden", "golden");
      deps.storage.volume(golden.id).files.set("/repo/a.txt", "v2");
      const forks = await engine.snapshots.fork("golden", { snapshot: "golden", count: 3, namePrefix: "worker" });
      assert.deepEqual(forks.map((f) => f.name).sort(), ["worker-1", "worker-2", "worker-3"]);
      for (const fork of forks) {
        assert.deepEqual(fork.forkedFrom, { workspace: "golden", workspaceId: golden.id, snapshot: "golden" });
        assert.equal(deps.storage.volume(fork.id).files.get("/repo/a.txt"), "v1");
      }
      assert.deepEqual(engine.snapshots.list("golden")[0]!.dependents.sort(), ["worker-1", "worker-2", "worker-3"]);
    }));

  test("a fork batch with one failure is rolled back whole", () =>
    withEngine(async (engine, deps) => {
      await engine.workspaces.create({ name: "golden" });
      await engine.snapshots.create("golden", "s1");
      deps.storage.failNextFork = true;
      await assert.rejects(engine.snapshots.fork("golden", { snapshot: "s1", count: 4 }), rejectsWith("BACKEND_FAILED"));
      assert.deepEqual(engine.workspaces.list().map((w) => w.name), ["golden"]);
      assert.equal(deps.runtime.instances.size, 1);
    }));

  test("snapshots and workspaces with forks cannot be deleted until the forks are gone", () =>
    withEngine(async (engine) => {
      await engine.workspaces.create({ name: "golden" });
      await engine.snapshots.create("golden", "s1");
      const [fork] = await engine.snapshots.fork("golden", { snapshot: "s1" });
      await assert.rejects(engine.snapshots.delete("golden", "s1"), rejectsWith("CONFLICT"));
      await assert.rejects(engine.workspaces.destroy("golden"), rejectsWith("CONFLICT"));
      await engine.workspaces.destroy(fork!.id);
      await engine.snapshots.delete("golden", "s1");
      await engine.workspaces.destroy("golden");
      assert.equal(engine.workspaces.list().length, 0);
    }));

  test("restore of a running workspace brings back the snapshot and leaves it running", () =>
    withEngine(async (engine, deps) => {
      const ws = await engine.workspaces.create({ name: "alpha" });
      deps.storage.volume(ws.id).files.set("f", "before");
      await engine.snapshots.create("alpha", "s1");
      deps.storage.volume(ws.id).files.set("f", "after");
      const restored = await engine.snapshots.restore("alpha", "s1");
      assert.equal(restored.state, "running");
      assert.equal(deps.storage.volume(ws.id).files.get("f"), "before");
    }));

  test("a snapshot name is unique per workspace and a missing one is NOT_FOUND", () =>
    withEngine(async (engine) => {
      await engine.workspaces.create({ name: "alpha" });
      await engine.snapshots.create("alpha", "s1");
      await assert.rejects(engine.snapshots.create("alpha", "s1"), rejectsWith("CONFLICT"));
      await assert.rejects(engine.snapshots.restore("alpha", "nope"), rejectsWith("NOT_FOUND"));
    }));

  test("a second engine on the same state dir is refused while the first is open", () =>
    withEngine(async (_engine, _deps, stateDir) => {
      await assert.rejects(Engine.open(makeDeps(stateDir), DEFAULTS), rejectsWith("CONFLICT"));
    }));
});

describe("reconcile", () => {
  test("after a restart running workspaces are adopted, dead ones stopped, half-done forks and orphans removed", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "agentiso-reconcile-"));
    const storage = new FakeStorage();
    const runtime = new FakeRuntime();
    try {
      const first = await Engine.open(makeDeps(stateDir, storage, runtime), DEFAULTS);
      await first.engine.workspaces.create({ name: "alive" });
      const dead = await first.engine.workspaces.create({ name: "dead" });
      runtime.crash(dead.id);
      // A fork cut off half-way: row in "creating", volume present, instance running.
      const half = first.engine.workspaces.newRecord({ name: "half" });
      (first.engine.workspaces as unknown as { db: { insertWorkspace(r: unknown): void } }).db.insertWorkspace(half);
      await storage.createWorkspace(half.id, { base: "base" });
      await runtime.start({ workspaceId: half.id, hostname: "half", rootfs: { kind: "directory", path: "/x" }, resources: { memoryMiB: 1, cpus: 1, pidsLimit: 1 }, network: "none", runDir: "/x" });
      // An orphan volume and instance nobody knows.
      await storage.createWorkspace("orphan1", { base: "base" });
      await runtime.start({ workspaceId: "orphan2", hostname: "o", rootfs: { kind: "directory", path: "/x" }, resources: { memoryMiB: 1, cpus: 1, pidsLimit: 1 }, network: "none", runDir: "/x" });
      await first.engine.close();

      const second = await Engine.open(makeDeps(stateDir, storage, runtime), DEFAULTS);
      try {
        assert.deepEqual(second.report.adopted, ["alive"]);
        assert.deepEqual(second.report.markedStopped, ["dead"]);
        assert.deepEqual(second.report.discarded, ["half"]);
        assert.deepEqual(second.report.reapedInstances, ["orphan2"]);
        assert.deepEqual(second.report.reapedVolumes, ["orphan1"]);
        assert.deepEqual(second.engine.workspaces.list().map((w) => [w.name, w.state]), [["alive", "running"], ["dead", "stopped"]]);
        assert.equal(storage.volumes.size, 2);
      } finally {
        await second.engine.close();
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  test("a snapshot in storage without a row (the daemon killed between the two) is removed at the next open, and its name is free again", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "agentiso-engine-"));
    const storage = new FakeStorage();
    const runtime = new FakeRuntime();
    try {
      const first = await Engine.open(makeDeps(stateDir, storage, runtime), DEFAULTS);
      const ws = await first.engine.workspaces.create({ name: "w" });
      await first.engine.snapshots.create("w", "kept");
      // what the kill left: the storage snapshot was taken, its row never written
      await storage.snapshot(ws.id, "torn");
      await assert.rejects(first.engine.snapshots.create("w", "torn"), rejectsWith("CONFLICT"), "before the repair the name is taken");
      // and a row whose storage snapshot is gone (a delete cut off after storage, before the row)
      await storage.deleteSnapshot(ws.id, "kept");
      await first.engine.close();

      const second = await Engine.open(makeDeps(stateDir, storage, runtime), DEFAULTS);
      try {
        assert.deepEqual(second.report.repairedSnapshots.sort(), ["w@kept", "w@torn"]);
        assert.deepEqual(second.engine.snapshots.list("w"), []);
        await second.engine.snapshots.create("w", "torn");
        await second.engine.snapshots.create("w", "kept");
        assert.deepEqual(second.engine.snapshots.list("w").map((s) => s.name).sort(), ["kept", "torn"]);
      } finally {
        await second.engine.close();
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  test("two creates of the same snapshot name at once: one wins, the other is a CONFLICT, storage and rows agree", () =>
    withEngine(async (engine, deps) => {
      const ws = await engine.workspaces.create({ name: "w" });
      const results = await Promise.allSettled([engine.snapshots.create("w", "s"), engine.snapshots.create("w", "s")]);
      assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
      assert.ok(isAgentisoError((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason, "CONFLICT"));
      assert.deepEqual(engine.snapshots.list("w").map((s) => s.name), ["s"]);
      assert.deepEqual([...deps.storage.volumes.get(ws.id)!.snapshots.keys()], ["s"]);
    }));
});
