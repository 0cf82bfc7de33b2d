// Runs the tasks max_parallel at a time with worker creation and removal off the critical
// path: while tasks run, the workers of the next ones are forked and set up (at most
// max_parallel spares), so a freed slot starts opencode at once; a finished task's worker
// is destroyed in the background while its slot moves on. Nothing outlives the pool.
import type { PlanTask } from "./plan.js";
import { errorResult, runPrepared } from "./task-runner.js";
import type { TaskRunContext } from "./task-run-context.js";
import type { TaskResult } from "./task-result.js";
import { destroyWorker, prepareWorker, workerName, type Preparation } from "./worker-prep.js";

const CANCELLED = "CANCELLED: the orchestration was cancelled before this task started";

/** What the pool does to a worker; replaceable so the scheduling can be tested on its own. */
export interface PoolSteps {
  prepare: typeof prepareWorker;
  run: typeof runPrepared;
  destroy: typeof destroyWorker;
}

const REAL_STEPS: PoolSteps = { prepare: prepareWorker, run: runPrepared, destroy: destroyWorker };

// Resolves with one result per task, in plan order, once every worker is destroyed (or kept).
export async function runTaskPool(ctx: TaskRunContext, tasks: readonly PlanTask[], parallel: number, steps: PoolSteps = REAL_STEPS): Promise<TaskResult[]> {
  const preps = tasks.map(() => deferred<Preparation>());
  const workers = new Budget(2 * parallel);
  const results: TaskResult[] = [];
  const releases: Array<Promise<void>> = [];
  const admitting = admit(ctx, tasks, parallel, preps, workers, steps);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = next++; i < tasks.length; i = next++) {
        const task = tasks[i]!;
        const turn = performance.now();
        const prep = await preps[i]!.promise;
        const result = await resultOf(ctx, task, prep, turn, steps).catch((err: unknown) => errorResult(task, workerName(ctx, task), String(err), performance.now() - turn));
        releases.push(
          release(ctx, prep, result, steps).then(() => {
            workers.release();
            results[i] = result;
            ctx.progress({ type: "task_done", task: task.name, result });
          }),
        );
      }
    }),
  );
  await admitting;
  await Promise.all(releases);
  return results;
}

// Starts the workers in plan order: task i once task i-parallel's worker is ready and fewer
// than 2 × parallel workers exist, so spares never crowd out the first wave's forks.
async function admit(ctx: TaskRunContext, tasks: readonly PlanTask[], parallel: number, preps: Array<Deferred<Preparation>>, workers: Budget, steps: PoolSteps): Promise<void> {
  for (const [i, task] of tasks.entries()) {
    if (i >= parallel) await preps[i - parallel]!.promise;
    await workers.acquire();
    if (ctx.signal.aborted) {
      preps[i]!.resolve({ ok: false, reason: CANCELLED });
      continue;
    }
    ctx.progress({ type: "task_state", task: task.name, state: "forking", worker: workerName(ctx, task) });
    void steps.prepare(ctx, task).then((prep) => {
      if (prep.ok) ctx.progress({ type: "task_state", task: task.name, state: "ready", worker: prep.worker.name });
      preps[i]!.resolve(prep);
    });
  }
}

async function resultOf(ctx: TaskRunContext, task: PlanTask, prep: Preparation, turn: number, steps: PoolSteps): Promise<TaskResult> {
  if (!prep.ok) return errorResult(task, prep.worker, prep.reason, performance.now() - turn);
  if (ctx.signal.aborted) return errorResult(task, prep.worker.name, CANCELLED, 0);
  return steps.run(ctx, task, prep.worker, turn);
}

// Destroys the task's worker unless kept, and says in the result what became of it.
async function release(ctx: TaskRunContext, prep: Preparation, result: TaskResult, steps: PoolSteps): Promise<void> {
  const worker = prep.ok ? prep.worker.name : prep.worker;
  if (worker === undefined) return;
  if (prep.ok) await Promise.resolve(prep.worker[Symbol.asyncDispose]()).catch((err: unknown) => ctx.logger.warn("closing the model tunnel failed", { worker, err }));
  if (ctx.keepWorkers) {
    result.workerState = "kept";
    return;
  }
  const started = performance.now();
  const failure = await steps.destroy(ctx, worker);
  result.workerState = failure === undefined ? "destroyed" : "left";
  if (result.phasesMs) result.phasesMs.destroy = Math.round(performance.now() - started);
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Counts live workers; acquire waits (first come, first served) while none is left. */
class Budget {
  private readonly waiting: Array<() => void> = [];

  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const wake = this.waiting.shift();
    if (wake) wake();
    else this.free++;
  }
}
