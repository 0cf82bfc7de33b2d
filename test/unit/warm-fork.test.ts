// Warm forks ([pool] forksPerSnapshot) over fake storage and a fake runtime: a fork begins the
// pool of its origin, snapshot and limits; a later fork of that key takes ready ones first with
// the caller's names and forks the rest; lineage is recorded; pooled forks are no dependents and
// go first when the snapshot is deleted, the origin restored, destroyed or its network changed.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.js";
import { POOL_OWNER } from "../../src/engine/warm-pool.js";
import { forkSpecOf, poolKeyOf } from "../../src/engine/pool-key.js";
import type { WorkspaceRecord } from "../../src/engine/workspace-record.js";
import { FakeStorage } from "../support/fake-storage.js";
import { FakeRuntime } from "../support/fake-runtime.js";
import { ENGINE_TEST_DEFAULTS, fakeEngineDeps } from "../support/fake-engine-deps.js";

async function withForkPool(fn: (engine: Engine) => Promise<void>): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "agentiso-warm-fork-"));
  const storage = new FakeStorage();
  const deps = fakeEngineDeps(stateDir, storage, new FakeRuntime(), { warmPool: { entries: [], forksPerSnapshot: 2 } });
  const { engine } = await Engine.open(deps, ENGINE_TEST_DEFAULTS);
  try {
    await fn(engine);
  } finally {
    await engine.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const forkPool = (engine: Engine, snapshot = "golden") => engine.pool!.stats().find((p) => p.forkOf?.snapshot === snapshot);
const pooled = (engine: Engine) => engine.workspaces.list({ owner: POOL_OWNER });

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function golden(engine: Engine): Promise<WorkspaceRecord> {
  const origin = await engine.workspaces.create({ name: "origin" });
  await engine.snapshots.create("origin", "golden");
  return origin;
}

describe("warm forks", () => {
  test("a fork begins its pool; a later fork of the key takes the ready ones with the caller's names and owner, forks the rest, and records lineage", () =>
    withForkPool(async (engine) => {
      const origin = await golden(engine);
      assert.equal(forkPool(engine), undefined, "no pool before the first fork");
      await engine.snapshots.fork("origin", { snapshot: "golden", name: "first" });
      await until(() => forkPool(engine)?.ready === 2);
      assert.deepEqual([forkPool(engine)!.hits, forkPool(engine)!.misses], [0, 1]);
      const ready = pooled(engine).map((w) => w.id);
      const forks = await engine.snapshots.fork("origin", { snapshot: "golden", count: 3, namePrefix: "w", owner: "s1" });
      assert.deepEqual(forks.map((w) => w.name), ["w-1", "w-2", "w-3"]);
      assert.deepEqual(forks.slice(0, 2).map((w) => w.id).sort(), [...ready].sort(), "the ready ones first");
      assert.deepEqual([forkPool(engine)!.hits, forkPool(engine)!.misses], [2, 2]);
      for (const w of forks) {
        assert.equal(w.owner, "s1");
        assert.deepEqual(w.forkedFrom, { workspace: "origin", workspaceId: origin.id, snapshot: "golden" });
      }
      assert.deepEqual(engine.snapshots.list("origin")[0]!.dependents.sort(), ["first", "w-1", "w-2", "w-3"], "pooled forks are no dependents");
      assert.equal(forkPool(engine)!.key, poolKeyOf(forkSpecOf(origin, "golden", {})));
    }));

  test("other limits make another pool; a fork pool's forks never serve a create, nor an image pool's a fork", () =>
    withForkPool(async (engine) => {
      await golden(engine);
      await engine.snapshots.fork("origin", { snapshot: "golden", memoryMiB: 256 });
      await until(() => forkPool(engine)?.ready === 2);
      const big = await engine.snapshots.fork("origin", { snapshot: "golden", memoryMiB: 1024 });
      assert.ok(!pooled(engine).some((w) => w.id === big[0]!.id));
      assert.equal(engine.pool!.stats().length, 2);
      const created = await engine.workspaces.create({ memoryMiB: 256 });
      assert.equal(created.forkedFrom, undefined);
    }));

  test("deleting the snapshot, restoring or destroying the origin and changing its network drop the pool and its forks first", () =>
    withForkPool(async (engine) => {
      await golden(engine);
      const fill = async () => {
        await engine.snapshots.fork("origin", { snapshot: "golden", name: "f" });
        await until(() => forkPool(engine)?.ready === 2);
        await engine.workspaces.destroy("f");
      };
      await fill();
      await engine.workspaces.setNetwork("origin", "egress");
      assert.deepEqual([forkPool(engine), pooled(engine)], [undefined, []]);
      await fill();
      await engine.snapshots.restore("origin", "golden");
      assert.deepEqual([forkPool(engine), pooled(engine)], [undefined, []]);
      await fill();
      await engine.snapshots.delete("origin", "golden");
      assert.deepEqual([forkPool(engine), pooled(engine)], [undefined, []]);
      await engine.snapshots.create("origin", "golden");
      await fill();
      await engine.workspaces.destroy("origin");
      assert.deepEqual([forkPool(engine), pooled(engine)], [undefined, []]);
    }));

  test("a fork of 2 whose second name is taken fails whole: the first one taken goes, the other stays pooled", () =>
    withForkPool(async (engine) => {
      await golden(engine);
      await engine.snapshots.fork("origin", { snapshot: "golden", name: "w-2" });
      await until(() => forkPool(engine)?.ready === 2);
      await assert.rejects(engine.snapshots.fork("origin", { snapshot: "golden", count: 2, namePrefix: "w" }), /w-2/);
      assert.deepEqual(engine.workspaces.list().map((w) => w.name).sort(), ["origin", "w-2"]);
      assert.ok(pooled(engine).length >= 1, "the one whose name was taken is still pooled");
    }));

  test("a fork that inherits an allowlist resolves to a key with its entries; asking another mode is another key", () => {
    const origin = { id: "o1", name: "o", image: "base", runtime: "container", network: "allowlist", allowlist: { allow: ["example.com"], deny: [] }, memoryMiB: 512, cpus: 1, pidsLimit: 256, diskBytes: 1 << 30 } as unknown as WorkspaceRecord;
    const inherited = poolKeyOf(forkSpecOf(origin, "s", {}));
    assert.match(inherited, /^fork of o1@s base container memory=512Mi .* network=allowlist allow=example\.com deny=$/);
    assert.notEqual(poolKeyOf(forkSpecOf(origin, "s", { network: "none" })), inherited);
    assert.equal(poolKeyOf(forkSpecOf(origin, "s", { memoryMiB: 512 })), inherited, "asking the origin's own limit is the same key");
  });
});
