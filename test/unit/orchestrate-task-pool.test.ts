// The orchestrator's task pool on its own: fake fork/run/destroy steps that record what exists,
// so the scheduling promises (spares ready before a slot frees, a bounded number of workers,
// nothing left when it resolves) are checked without containers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/logger.js";
import { runTaskPool, type PoolSteps } from "../../src/orchestrator/task-pool.js";
import { errorResult } from "../../src/orchestrator/task-runner.js";
import type { TaskRunContext } from "../../src/orchestrator/task-run-context.js";
import type { PlanTask } from "../../src/orchestrator/plan.js";
import type { ProgressEvent } from "../../src/orchestrator/task-result.js";
import type { PreparedWorker } from "../../src/orchestrator/worker-prep.js";

interface Rig {
  steps: PoolSteps;
  ctx: TaskRunContext;
  live: Set<string>;
  maxLive: number;
  prepared: string[];
  destroyed: string[];
  events: ProgressEvent[];
  /** Resolves once `count` workers have been prepared. */
  preparedCount(count: number): Promise<void>;
  /** Resolves once the task's opencode run has started. */
  started(task: string): Promise<void>;
  /** Lets the task's run finish. */
  finish(task: string): void;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function rig(options: { failFork?: string; keepWorkers?: boolean; controller?: AbortController } = {}): Rig {
  const gates = new Map<string, ReturnType<typeof deferred>>();
  const starts = new Map<string, ReturnType<typeof deferred>>();
  const gate = (map: typeof gates, key: string) => map.get(key) ?? map.set(key, deferred()).get(key)!;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const r: Rig = {
    live: new Set(),
    maxLive: 0,
    prepared: [],
    destroyed: [],
    events: [],
    ctx: {
      workerPrefix: "wtest",
      keepWorkers: options.keepWorkers ?? false,
      logger: silentLogger,
      signal: (options.controller ?? new AbortController()).signal,
      progress: (event: ProgressEvent) => r.events.push(event),
    } as unknown as TaskRunContext,
    steps: {
      prepare: async (_ctx, task) => {
        if (task.name === options.failFork) return { ok: false, reason: "BACKEND_FAILED: injected fork failure" };
        const name = `wtest-${task.name}`;
        r.live.add(name);
        r.maxLive = Math.max(r.maxLive, r.live.size);
        r.prepared.push(task.name);
        for (const w of waiters.filter((w) => r.prepared.length >= w.count)) w.resolve();
        const worker = { name, forkMs: 1, setupMs: 1, [Symbol.asyncDispose]: async () => {} };
        return { ok: true, worker: worker as unknown as PreparedWorker };
      },
      run: async (ctx, task, prepared, turn) => {
        gate(starts, task.name).resolve();
        await Promise.race([gate(gates, task.name).promise, new Promise((resolve) => ctx.signal.addEventListener("abort", resolve))]);
        const result = errorResult(task, prepared.name, "", performance.now() - turn);
        return { ...result, status: ctx.signal.aborted ? "error" : "succeeded", phasesMs: { fork: 1, setup: 1, waited: 0, run: 0, collect: 0, destroy: 0 } };
      },
      destroy: async (_ctx, name) => {
        r.live.delete(name);
        r.destroyed.push(name);
        return undefined;
      },
    },
    preparedCount: (count) => (r.prepared.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    started: (task) => gate(starts, task).promise,
    finish: (task) => gate(gates, task).resolve(),
  };
  return r;
}

const tasks = (n: number): PlanTask[] => Array.from({ length: n }, (_, i) => ({ name: `t${i + 1}`, prompt: "p", workdir: "/workspace" }));

describe("orchestrator task pool", () => {
  test("the next wave's workers are ready while the first wave still runs, and at most 2 × max_parallel workers exist", async () => {
    const r = rig();
    const done = runTaskPool(r.ctx, tasks(10), 2, r.steps);
    await Promise.all([r.started("t1"), r.started("t2")]);
    await r.preparedCount(4);
    assert.deepEqual(r.prepared, ["t1", "t2", "t3", "t4"], "t3 and t4 are forked before any slot frees, t5 not yet");
    for (let i = 1; i <= 10; i++) {
      await r.started(`t${i}`);
      r.finish(`t${i}`);
    }
    const results = await done;
    assert.ok(r.maxLive <= 4, `at most 4 workers at once, saw ${r.maxLive}`);
    assert.deepEqual(results.map((t) => t.name), tasks(10).map((t) => t.name), "results in plan order");
    assert.ok(results.every((t) => t.status === "succeeded" && t.workerState === "destroyed"));
    assert.equal(r.live.size, 0, "no worker is left when the pool resolves");
    const ready = r.events.flatMap((e) => (e.type === "task_state" && e.state === "ready" ? [e.task] : []));
    assert.deepEqual(ready.sort(), tasks(10).map((t) => t.name).sort(), "each worker is announced ready");
  });

  test("a task's result is announced only after its worker is destroyed", async () => {
    const r = rig();
    const done = runTaskPool(r.ctx, tasks(3), 3, r.steps);
    for (const t of ["t1", "t2", "t3"]) r.finish(t);
    await done;
    for (const event of r.events.filter((e) => e.type === "task_done")) {
      assert.ok(r.destroyed.includes(`wtest-${event.task}`), `${event.task} destroyed before task_done`);
    }
  });

  test("a failed fork is that task's error result and the other tasks still run", async () => {
    const r = rig({ failFork: "t2" });
    const done = runTaskPool(r.ctx, tasks(4), 2, r.steps);
    for (const t of ["t1", "t3", "t4"]) r.finish(t);
    const results = await done;
    assert.deepEqual(results.map((t) => t.status), ["succeeded", "error", "succeeded", "succeeded"]);
    assert.match(results[1]!.reason, /injected fork failure/);
    assert.equal(r.live.size, 0);
  });

  test("cancelling mid-run destroys the spare workers that never ran and reports their tasks cancelled", async () => {
    const controller = new AbortController();
    const r = rig({ controller });
    const done = runTaskPool(r.ctx, tasks(6), 2, r.steps);
    await Promise.all([r.started("t1"), r.started("t2"), r.preparedCount(4)]);
    controller.abort();
    const results = await done;
    assert.deepEqual(results.map((t) => t.status), Array(6).fill("error"));
    assert.match(results[2]!.reason, /CANCELLED/);
    assert.equal(r.live.size, 0, "the spares of t3 and t4 are destroyed too");
  });

  test("kept workers stay and the results say so", async () => {
    const r = rig({ keepWorkers: true });
    const done = runTaskPool(r.ctx, tasks(2), 2, r.steps);
    for (const t of ["t1", "t2"]) r.finish(t);
    const results = await done;
    assert.deepEqual(results.map((t) => t.workerState), ["kept", "kept"]);
    assert.equal(r.live.size, 2);
  });
});
