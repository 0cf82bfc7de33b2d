// The warm pool over fake storage and a fake runtime: pools per image and limits, hand-out
// (name, owner, limits, hostname), one caller per pooled workspace, refills, idle reaping,
// adoption after a restart, close; and the background filler's bounds.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.js";
import { POOL_OWNER, type WarmPoolSettings } from "../../src/engine/warm-pool.js";
import { PoolFiller, type FillTarget } from "../../src/engine/pool-filler.js";
import { silentLogger } from "../../src/core/logger.js";
import { FakeStorage } from "../support/fake-storage.js";
import { FakeRuntime } from "../support/fake-runtime.js";
import { ENGINE_TEST_DEFAULTS, fakeEngineDeps } from "../support/fake-engine-deps.js";

const BIG = { image: "opencode", memoryMiB: 2048, cpus: 2, network: "egress" as const };

// A fake container runtime that renames running instances from outside, as runc's does.
class RenamingRuntime extends FakeRuntime {
  readonly renames: Array<{ id: string; hostname: string }> = [];
  async rename(instance: { workspaceId: string }, hostname: string) {
    this.renames.push({ id: instance.workspaceId, hostname });
  }
}

interface Rig {
  engine: Engine;
  storage: FakeStorage;
  runtime: RenamingRuntime;
}

function makeDeps(stateDir: string, storage: FakeStorage, runtime: RenamingRuntime, warmPool?: WarmPoolSettings) {
  return fakeEngineDeps(stateDir, storage, runtime, warmPool && { warmPool });
}

async function withPool(warmPool: WarmPoolSettings, fn: (rig: Rig) => Promise<void>): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "agentiso-warm-pool-"));
  const storage = new FakeStorage();
  const runtime = new RenamingRuntime();
  const { engine } = await Engine.open(makeDeps(stateDir, storage, runtime, warmPool), ENGINE_TEST_DEFAULTS);
  try {
    await fn({ engine, storage, runtime });
  } finally {
    await engine.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const stats = (engine: Engine, image = "base") => engine.pool!.stats().find((p) => p.image === image)!;

// Waits for the pool's background work (a few event-loop turns of fake I/O).
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("warm pool", () => {
  test("each pool fills in the background; a create resolving to its key takes a ready one with the caller's name, owner and limits, and the pool refills", () =>
    withPool({ entries: [{ size: 2 }, { size: 1, ...BIG }] }, async ({ engine, runtime }) => {
      await until(() => stats(engine).ready === 2 && stats(engine, "opencode").ready === 1);
      assert.deepEqual(engine.workspaces.list(), [], "pooled workspaces are not listed");
      const pooled = engine.workspaces.list({ owner: POOL_OWNER }).map((w) => w.id);
      const before = Date.now();
      const ws = await engine.workspaces.create({ name: "mine", owner: "session-1", ...BIG, lifecycle: { idle: { seconds: 30, action: "stop" } } });
      assert.ok(pooled.includes(ws.id));
      assert.deepEqual([ws.name, ws.owner, ws.image, ws.memoryMiB, ws.cpus, ws.network], ["mine", "session-1", "opencode", 2048, 2, "egress"]);
      assert.deepEqual(runtime.renames, [{ id: ws.id, hostname: "mine" }], "the host renames the container");
      assert.ok(Date.parse(ws.createdAt) >= before, "created at the hand-out, not when it was pooled");
      assert.ok(Date.parse(ws.lifecycle!.idle!.lastActivityAt) >= before);
      assert.deepEqual([stats(engine, "opencode").hits, stats(engine).hits], [1, 0]);
      assert.deepEqual(engine.workspaces.list().map((w) => w.name), ["mine"]);
      await until(() => stats(engine, "opencode").ready === 1);
    }));

  test("an unnamed create keeps the pooled workspace's ws-<id> name and hostname: nothing to rename", () =>
    withPool({ entries: [{ size: 1 }] }, async ({ engine, runtime }) => {
      await until(() => stats(engine).ready === 1);
      const ws = await engine.workspaces.create({});
      assert.equal(ws.name, `ws-${ws.id}`);
      assert.equal(ws.owner, undefined);
      assert.equal(ws.lifecycle, undefined);
      assert.deepEqual(runtime.renames, []);
      assert.equal(stats(engine).hits, 1);
    }));

  test("a create with any other image or limit starts cold and is neither a hit nor a miss; one of the key with none ready is a miss", () =>
    withPool({ entries: [{ size: 1, ...BIG }] }, async ({ engine }) => {
      await until(() => stats(engine, "opencode").ready === 1);
      const pooled = engine.workspaces.list({ owner: POOL_OWNER })[0]!.id;
      for (const other of [{ image: "opencode" }, { ...BIG, memoryMiB: 1024 }, { ...BIG, network: "none" as const }, { ...BIG, pidsLimit: 64 }, { ...BIG, diskBytes: 2 << 30 }]) {
        assert.notEqual((await engine.workspaces.create(other)).id, pooled);
      }
      assert.deepEqual([stats(engine, "opencode").hits, stats(engine, "opencode").misses], [0, 0]);
      assert.equal((await engine.workspaces.create(BIG)).id, pooled);
      const cold = await engine.workspaces.create(BIG); // the refill has not finished: served cold
      assert.notEqual(cold.id, pooled);
      assert.deepEqual([stats(engine, "opencode").hits, stats(engine, "opencode").misses], [1, 1]);
    }));

  test("creates at the same time never get the same pooled workspace", () =>
    withPool({ entries: [{ size: 2 }] }, async ({ engine }) => {
      await until(() => stats(engine).ready === 2);
      const pooled = new Set(engine.workspaces.list({ owner: POOL_OWNER }).map((w) => w.id));
      const created = await Promise.all(Array.from({ length: 5 }, (_, i) => engine.workspaces.create({ name: `w${i}` })));
      assert.equal(new Set(created.map((w) => w.id)).size, 5);
      assert.equal(created.filter((w) => pooled.has(w.id)).length, 2);
      assert.deepEqual([stats(engine).hits, stats(engine).misses], [2, 3]);
    }));

  test("a taken name fails the create and leaves the pooled workspace pooled", () =>
    withPool({ entries: [{ size: 1 }] }, async ({ engine }) => {
      await engine.workspaces.create({ name: "taken", memoryMiB: 64 });
      await until(() => stats(engine).ready === 1);
      const pooled = engine.workspaces.list({ owner: POOL_OWNER })[0]!;
      await assert.rejects(engine.workspaces.create({ name: "taken" }), /already exists/);
      assert.equal(engine.workspaces.get(pooled.id).owner, POOL_OWNER);
      assert.equal(stats(engine).ready, 1);
    }));

  test("pooled workspaces unclaimed past the idle timeout are destroyed; the pool stays empty until a create asks for its key", () =>
    withPool({ entries: [{ size: 1 }, { size: 1, ...BIG, idleTimeoutMs: null }], idleTimeoutMs: 300 }, async ({ engine, storage }) => {
      await until(() => stats(engine).ready === 1 && stats(engine, "opencode").ready === 1);
      const first = engine.workspaces.list({ owner: POOL_OWNER }).find((w) => w.image === "base")!.id;
      await until(() => stats(engine).reaped === 1 && stats(engine).ready === 0);
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(stats(engine).ready, 0, "not refilled while nobody asks");
      assert.equal(stats(engine).dormant, true);
      assert.equal(stats(engine, "opencode").ready, 1, "an entry's own timeout (none) wins");
      assert.ok(!storage.volumes.has(first));
      await engine.workspaces.create({ name: "cold" }); // a miss wakes the pool
      await until(() => stats(engine).ready === 1);
      assert.equal(stats(engine).dormant, false);
    }));

  test("a restarted engine keeps the pooled workspaces a configured pool still wants and destroys the others", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "agentiso-warm-pool-"));
    const storage = new FakeStorage();
    const runtime = new RenamingRuntime();
    try {
      const first = await Engine.open(makeDeps(stateDir, storage, runtime), ENGINE_TEST_DEFAULTS);
      // what a killed daemon's pool left: two of the default key, one of a key no longer configured, one dead
      const left = [];
      for (const options of [{}, {}, { memoryMiB: 64 }, {}]) left.push(await first.engine.workspaces.create({ ...options, owner: POOL_OWNER }));
      runtime.crash(left[3]!.id);
      await first.engine.close();

      const second = await Engine.open(makeDeps(stateDir, storage, runtime, { entries: [{ size: 1 }] }), ENGINE_TEST_DEFAULTS);
      try {
        // the rows go before the runtime's stops end: wait for both
        await until(() => second.engine.workspaces.list({ owner: POOL_OWNER }).length === 1 && runtime.instances.size === 1);
        assert.deepEqual(second.engine.workspaces.list({ owner: POOL_OWNER }).map((w) => w.id), [left[0]!.id], "the oldest of the wanted key is adopted");
        assert.deepEqual([...runtime.instances.keys()], [left[0]!.id]);
        assert.equal((await second.engine.workspaces.create({})).id, left[0]!.id);
      } finally {
        await second.engine.close();
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  test("closing the engine destroys the pooled workspaces, the ones being started included, and keeps the handed-out ones", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "agentiso-warm-pool-"));
    const storage = new FakeStorage();
    const runtime = new RenamingRuntime();
    try {
      const { engine } = await Engine.open(makeDeps(stateDir, storage, runtime, { entries: [{ size: 2 }] }), ENGINE_TEST_DEFAULTS);
      await until(() => stats(engine).ready === 2);
      const mine = await engine.workspaces.create({ name: "mine" });
      await engine.close(); // while the refill runs
      assert.deepEqual([...runtime.instances.keys()], [mine.id]);
      assert.deepEqual([...storage.volumes.keys()], [mine.id]);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe("warm pool filler", () => {
  // Targets whose fills the test ends by hand.
  function targets(lacking: Record<string, number>) {
    const pending: Array<{ key: string; done: (err?: Error) => void }> = [];
    const list: FillTarget[] = Object.keys(lacking).map((key) => ({
      key,
      lacking: () => lacking[key]!,
      fillOne: () =>
        new Promise<void>((resolve, reject) => {
          pending.push({ key, done: (err) => (err ? reject(err) : ((lacking[key] = lacking[key]! - 1), resolve())) });
        }),
    }));
    return { list, pending };
  }

  test("starts at most `concurrency` at once, and none while callers' creates run", async () => {
    const { list, pending } = targets({ a: 3, b: 1 });
    let busy = true;
    const filler = new PoolFiller({ concurrency: 2, targets: () => list, callersBusy: () => busy, logger: silentLogger });
    filler.kick();
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(pending.length, 0, "callers first");
    busy = false;
    await until(() => pending.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(pending.length, 2, "never more than the concurrency");
    pending[0]!.done();
    await until(() => pending.length === 3);
    for (const p of pending.slice(1)) p.done();
    await until(() => pending.length === 4);
    pending[3]!.done();
    await filler.close();
    assert.deepEqual(pending.map((p) => p.key).sort(), ["a", "a", "a", "b"]);
  });

  test("close cuts the starts under way short instead of waiting for them (a stopping daemon must not wait for an image build)", async () => {
    let aborted = false;
    const slow: FillTarget = {
      key: "slow",
      lacking: () => 1,
      fillOne: (signal) => new Promise<void>((_, reject) => signal.addEventListener("abort", () => ((aborted = true), reject(signal.reason)))),
    };
    const filler = new PoolFiller({ concurrency: 1, targets: () => [slow], callersBusy: () => false, logger: silentLogger });
    filler.kick();
    await until(() => filler.startingOf("slow") === 1);
    await filler.close();
    assert.ok(aborted);
  });

  test("a failing pool waits before it is tried again", async () => {
    const { list, pending } = targets({ a: 1 });
    const filler = new PoolFiller({ concurrency: 1, targets: () => list, callersBusy: () => false, logger: silentLogger });
    filler.kick();
    await until(() => pending.length === 1);
    pending[0]!.done(new Error("image build failed"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(pending.length, 1, "no retry at once");
    await until(() => pending.length === 2, 3000);
    pending[1]!.done();
    await filler.close();
  });
});
