// Lifecycle limits and pause/resume in the engine, over fake storage and runtime with real
// (second-long) deadlines: the reaper stops or destroys what ran out, logs and counts it, leaves
// alone what is used (calls, a request in flight, a background job, a hold), and finds overdue
// workspaces at once after a restart; a paused workspace refuses its agent and stays paused
// across a restart.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.js";
import type { EngineDeps, GuestActivity, GuestLink } from "../../src/engine/engine-deps.js";
import { silentLogger, type Logger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { FakeStorage } from "../support/fake-storage.js";
import { FakeRuntime, noTunnels } from "../support/fake-runtime.js";

const DEFAULTS = { image: "base", runtime: "container" as const, memoryMiB: 512, cpus: 1, diskBytes: 1 << 30, pidsLimit: 256, network: "none" as const };

interface Observed {
  reaped: Array<{ action: string; reason: string }>;
  logs: Array<{ message: string; fields: Record<string, unknown> }>;
  /** What the fake agent answers: a request in flight, background jobs running. */
  guest: { inFlight: number; jobsRunning: boolean };
}

function capturingLogger(logs: Observed["logs"]): Logger {
  const log = (message: string, fields: Record<string, unknown> = {}) => void logs.push({ message, fields });
  const logger: Logger = { ...silentLogger, info: log, warn: log, child: () => logger };
  return logger;
}

function makeDeps(stateDir: string, observed: Observed, storage = new FakeStorage(), runtime = new FakeRuntime()): EngineDeps<GuestLink> {
  const link = { close: async () => {}, activity: (): GuestActivity => ({ inFlight: observed.guest.inFlight, lastActivityMs: 0 }) };
  return {
    stateDir,
    tag: resourceTagFor(stateDir),
    logger: capturingLogger(observed.logs),
    storage,
    runtimes: { container: runtime },
    images: { ensureBase: async (image) => (await storage.importBase(image)).name },
    guests: { connect: async () => link, syncDisk: async () => {}, setHostname: async () => {}, openTunnel: noTunnels, hasRunningJobs: async () => observed.guest.jobsRunning },
    events: { workspaceReaped: (info) => void observed.reaped.push(info) },
  };
}

async function withEngine(fn: (engine: Engine, observed: Observed) => Promise<void>): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "hlf-engine-"));
  const observed: Observed = { reaped: [], logs: [], guest: { inFlight: 0, jobsRunning: false } };
  const { engine } = await Engine.open(makeDeps(stateDir, observed), DEFAULTS);
  try {
    await fn(engine, observed);
  } finally {
    await engine.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function until(what: string, condition: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stateOf = (engine: Engine, name: string) => engine.workspaces.list().find((w) => w.name === name)?.state;

describe("lifecycle limits", () => {
  test("a workspace whose ttl runs out is destroyed, logged with its reason and counted", () =>
    withEngine(async (engine, observed) => {
      const ws = await engine.workspaces.create({ name: "short", lifecycle: { ttl: { seconds: 1, action: "destroy" } } });
      assert.equal(ws.lifecycle?.ttl?.action, "destroy");
      assert.ok(Math.abs(Date.parse(ws.lifecycle!.ttl!.at) - Date.parse(ws.createdAt) - 1000) < 5);
      await engine.workspaces.create({ name: "unlimited" });
      await until("the reap", () => stateOf(engine, "short") === undefined);
      assert.deepEqual(observed.reaped, [{ action: "destroy", reason: "ttl" }]);
      const line = observed.logs.find((l) => l.message === "workspace reaped");
      assert.deepEqual([line?.fields.name, line?.fields.reason, line?.fields.action], ["short", "ttl", "destroy"]);
      assert.equal(stateOf(engine, "unlimited"), "running");
    }));

  test("a ttl that stops acts once: the workspace is stopped, its ttl cleared, and it may start again", () =>
    withEngine(async (engine, observed) => {
      await engine.workspaces.create({ name: "w", lifecycle: { ttl: { seconds: 1, action: "stop" } } });
      await until("the stop", () => stateOf(engine, "w") === "stopped");
      assert.equal(engine.workspaces.get("w").lifecycle, undefined);
      await engine.workspaces.start("w");
      await sleep(1200);
      assert.equal(stateOf(engine, "w"), "running");
      assert.deepEqual(observed.reaped, [{ action: "stop", reason: "ttl" }]);
    }));

  test("calls keep an idle workspace alive; once they stop it is stopped one timeout after the last", () =>
    withEngine(async (engine, observed) => {
      await engine.workspaces.create({ name: "w", lifecycle: { idle: { seconds: 1, action: "stop" } } });
      let last = 0;
      for (let i = 0; i < 10; i++) {
        engine.lifecycle.touch(engine.workspaces.get("w").id);
        last = Date.now();
        await sleep(250);
      }
      assert.equal(stateOf(engine, "w"), "running", "2.5 s of calls every 250 ms: never idle for 1 s");
      await until("the idle stop", () => stateOf(engine, "w") === "stopped");
      assert.ok(Date.now() - last >= 1000, "not before the timeout");
      assert.deepEqual(observed.reaped, [{ action: "stop", reason: "idle" }]);
      assert.equal(engine.workspaces.get("w").lifecycle?.idle?.at, undefined, "a stopped workspace has no idle deadline to stop it again");
    }));

  test("a request in flight or a running background job counts as activity; an idle destroy then takes what is left", () =>
    withEngine(async (engine, observed) => {
      await engine.workspaces.create({ name: "w", lifecycle: { idle: { seconds: 1, action: "destroy" } } });
      await engine.workspaces.guest("w"); // the agent connection the reaper reads
      observed.guest.inFlight = 1;
      await sleep(2000);
      assert.equal(stateOf(engine, "w"), "running", "a long exec in flight");
      observed.guest.inFlight = 0;
      observed.guest.jobsRunning = true;
      await sleep(2500);
      assert.equal(stateOf(engine, "w"), "running", "a background job running");
      observed.guest.jobsRunning = false;
      await until("the idle destroy", () => stateOf(engine, "w") === undefined);
      assert.deepEqual(observed.reaped, [{ action: "destroy", reason: "idle" }]);
    }));

  test("a paused workspace is idle, even with a request frozen in flight", () =>
    withEngine(async (engine, observed) => {
      await engine.workspaces.create({ name: "w", lifecycle: { idle: { seconds: 1, action: "stop" } } });
      await engine.workspaces.guest("w");
      observed.guest.inFlight = 1; // an exec caught by the pause
      await engine.lifecycle.pause("w");
      await until("the idle stop of the paused workspace", () => stateOf(engine, "w") === "stopped");
      assert.deepEqual(observed.reaped, [{ action: "stop", reason: "idle" }]);
    }));

  test("a held workspace (an orchestration's golden) is not reaped until released", () =>
    withEngine(async (engine) => {
      const ws = await engine.workspaces.create({ name: "golden", lifecycle: { ttl: { seconds: 1, action: "destroy" } } });
      const hold = engine.lifecycle.hold(ws.id);
      await sleep(2000);
      assert.equal(stateOf(engine, "golden"), "running");
      hold[Symbol.dispose]();
      await until("the reap after release", () => stateOf(engine, "golden") === undefined);
    }));

  test("a destroy that is refused (forks exist) is logged and tried again later, not in a loop", () =>
    withEngine(async (engine, observed) => {
      await engine.workspaces.create({ name: "origin", lifecycle: { ttl: { seconds: 1, action: "destroy" } } });
      await engine.snapshots.create("origin", "s1");
      await engine.snapshots.fork("origin", { snapshot: "s1", name: "child" });
      await sleep(2500);
      assert.equal(stateOf(engine, "origin"), "running");
      const failures = observed.logs.filter((l) => l.message === "workspace reap failed; trying again later");
      assert.equal(failures.length, 1, "one attempt, then a back-off of a minute");
      assert.equal(failures[0]!.fields.retryInMs, 60_000);
      assert.deepEqual(observed.reaped, []);
    }));

  test("limits change later: a new ttl counts from now, an action alone changes a set limit, none removes it", () =>
    withEngine(async (engine) => {
      const ws = await engine.workspaces.create({ name: "w" });
      assert.equal(ws.lifecycle, undefined);
      const before = Date.now();
      const set = engine.lifecycle.setLimits("w", { ttl: { seconds: 3600 }, idle: { seconds: 600, action: "destroy" } });
      assert.equal(set.lifecycle?.ttl?.action, "destroy");
      assert.ok(Date.parse(set.lifecycle!.ttl!.at) >= before + 3_600_000);
      assert.deepEqual([set.lifecycle?.idle?.action, set.lifecycle?.idle?.timeoutSeconds], ["destroy", 600]);
      assert.ok(set.lifecycle?.idle?.at, "a running workspace has an idle deadline");
      const changed = engine.lifecycle.setLimits("w", { ttl: { action: "stop" }, idle: null });
      assert.deepEqual([changed.lifecycle?.ttl?.action, changed.lifecycle?.ttl?.at, changed.lifecycle?.idle], ["stop", set.lifecycle?.ttl?.at, undefined]);
      assert.throws(() => engine.lifecycle.setLimits("w", { idle: { action: "stop" } }), (err) => isAgentisoError(err, "INVALID_INPUT") && /give idleTimeout/.test(err.message));
      assert.equal(engine.lifecycle.setLimits("w", { ttl: null }).lifecycle, undefined);
    }));
});

describe("lifecycle across a restart", () => {
  test("limits survive a restart and what ran out while no engine was open is reaped at once", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "hlf-engine-"));
    const storage = new FakeStorage();
    const runtime = new FakeRuntime();
    const observed: Observed = { reaped: [], logs: [], guest: { inFlight: 0, jobsRunning: false } };
    try {
      const first = await Engine.open(makeDeps(stateDir, observed, storage, runtime), DEFAULTS);
      await first.engine.workspaces.create({ name: "ttl", lifecycle: { ttl: { seconds: 2, action: "destroy" } } });
      await first.engine.workspaces.create({ name: "idle", lifecycle: { idle: { seconds: 2, action: "stop" } } });
      const used = await first.engine.workspaces.create({ name: "used", lifecycle: { idle: { seconds: 3, action: "stop" } } });
      await sleep(1500);
      first.engine.lifecycle.touch(used.id); // in memory only, written when the engine closes
      await first.engine.close();
      await sleep(1000); // past the ttl and the first idle deadline, not past "used"'s
      const opened = Date.now();
      const second = await Engine.open(makeDeps(stateDir, observed, storage, runtime), DEFAULTS);
      try {
        await until("the overdue reaps", () => stateOf(second.engine, "ttl") === undefined && stateOf(second.engine, "idle") === "stopped", 3000);
        const promptMs = Date.now() - opened;
        assert.ok(promptMs < 1000, `reaped ${promptMs} ms after the open`);
        assert.equal(stateOf(second.engine, "used"), "running", "the touch before the close was kept");
        assert.deepEqual(observed.reaped.map((r) => r.reason).sort(), ["idle", "ttl"]);
      } finally {
        await second.engine.close();
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

test("a restart does not take a running container's cgroup, which the vm runtime lists too, for a vm orphan", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "hlf-engine-"));
  const storage = new FakeStorage();
  const container = new FakeRuntime();
  const vmStops: string[] = [];
  // the vm runtime lists tagged cgroups by name, whoever made them
  const vm = { ...new FakeRuntime(), kind: "vm" as const, listInstances: async () => [...container.instances.keys()], stop: async (id: string) => void vmStops.push(id) };
  const observed: Observed = { reaped: [], logs: [], guest: { inFlight: 0, jobsRunning: false } };
  const deps = () => ({ ...makeDeps(stateDir, observed, storage, container), runtimes: { container, vm: vm as unknown as FakeRuntime } });
  try {
    const first = await Engine.open(deps(), DEFAULTS);
    await first.engine.workspaces.create({ name: "c" });
    await first.engine.lifecycle.pause("c");
    await first.engine.workspaces.create({ name: "d" });
    await first.engine.close();
    const second = await Engine.open(deps(), DEFAULTS);
    try {
      assert.deepEqual(second.report.reapedInstances, []);
      assert.deepEqual(vmStops, []);
      assert.deepEqual(second.engine.workspaces.list().map((w) => [w.name, w.state]), [["c", "paused"], ["d", "running"]]);
    } finally {
      await second.engine.close();
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

describe("pause and resume", () => {
  test("a paused workspace refuses its agent with CONFLICT, can be stopped, and resume brings it back", () =>
    withEngine(async (engine) => {
      await engine.workspaces.create({ name: "w" });
      assert.equal((await engine.lifecycle.pause("w")).state, "paused");
      assert.equal((await engine.lifecycle.pause("w")).state, "paused", "pause is idempotent");
      await assert.rejects(engine.workspaces.guest("w"), (err) => isAgentisoError(err, "CONFLICT") && /resume it first/.test(err.message));
      await assert.rejects(engine.workspaces.setNetwork("w", "egress"), (err) => isAgentisoError(err, "CONFLICT"));
      await assert.rejects(engine.workspaces.start("w"), (err) => isAgentisoError(err, "CONFLICT"));
      assert.equal((await engine.lifecycle.resume("w")).state, "running");
      await engine.workspaces.guest("w");
      await engine.lifecycle.pause("w");
      assert.equal((await engine.workspaces.stop("w")).state, "stopped");
      await assert.rejects(engine.lifecycle.resume("w"), (err) => isAgentisoError(err, "INVALID_STATE") && /start it instead/.test(err.message));
      await assert.rejects(engine.lifecycle.pause("w"), (err) => isAgentisoError(err, "INVALID_STATE"));
    }));

  test("a paused workspace is adopted paused after a restart and can be resumed and destroyed", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "hlf-engine-"));
    const storage = new FakeStorage();
    const runtime = new FakeRuntime();
    const observed: Observed = { reaped: [], logs: [], guest: { inFlight: 0, jobsRunning: false } };
    try {
      const first = await Engine.open(makeDeps(stateDir, observed, storage, runtime), DEFAULTS);
      const ws = await first.engine.workspaces.create({ name: "w" });
      await first.engine.lifecycle.pause("w");
      await first.engine.close();
      const second = await Engine.open(makeDeps(stateDir, observed, storage, runtime), DEFAULTS);
      try {
        assert.deepEqual(second.report.adopted, ["w"]);
        assert.deepEqual(second.report.reapedInstances, [], "a paused instance is not an orphan");
        assert.equal(second.engine.workspaces.get("w").state, "paused");
        assert.equal(runtime.instances.get(ws.id)?.paused, true);
        assert.equal((await second.engine.lifecycle.resume("w")).state, "running");
        await second.engine.lifecycle.pause("w");
        await second.engine.workspaces.destroy("w");
        assert.equal(runtime.instances.size, 0);
      } finally {
        await second.engine.close();
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
