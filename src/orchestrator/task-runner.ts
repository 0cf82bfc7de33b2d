// One task in its prepared worker (see worker-prep.ts): run `opencode run --format json`,
// stream its events, then collect outcome, tokens and the patch. Every failure becomes a
// result with a reason; nothing here throws past the task.
import { CappedBytes } from "../core/capped-bytes.js";
import { toAgentisoError } from "../core/errors.js";
import type { TaskUsage } from "../llm/task-spend.js";
import { totalTokens, zeroUsage } from "../llm/token-usage.js";
import { OpencodeEventParser } from "./opencode/parse-events.js";
import { judgeOpencodeRun } from "./opencode/run-outcome.js";
import { collectChanges, type CollectedChanges } from "../domain/collect-changes.js";
import type { PlanTask } from "./plan.js";
import type { TaskRunContext } from "./task-run-context.js";
import type { TaskPhases, TaskResult } from "./task-result.js";
import type { PreparedWorker } from "./worker-prep.js";

// Runs opencode in a prepared worker and collects its result. Never throws; leaves the worker
// running and its model tunnel open (the pool releases both). `turn` is when the task's slot came free.
export async function runPrepared(ctx: TaskRunContext, task: PlanTask, prepared: PreparedWorker, turn: number): Promise<TaskResult> {
  const { name: worker, guest, access } = prepared;
  const phases = { fork: prepared.forkMs, setup: prepared.setupMs, waited: performance.now() - turn, run: 0, collect: 0, destroy: 0 };
  try {
    ctx.progress({ type: "task_state", task: task.name, state: "running", worker });
    const runStarted = performance.now();
    const run = await streamOpencode(ctx, task, prepared);
    phases.run = performance.now() - runStarted;
    ctx.onEvents?.(task.name, run.raw);
    ctx.progress({ type: "task_state", task: task.name, state: "collecting", worker });
    const changes = await collectChanges(guest, task.workdir, prepared.baseline, { maxBytes: ctx.caps.patchBytes, what: `the patch of task ${task.name}`, signal: ctx.signal });
    phases.collect = performance.now() - runStarted - phases.run;
    return { ...judgedResult(task, run, changes, access.usage()), durationMs: Math.round(performance.now() - turn), phasesMs: roundPhases(phases), worker };
  } catch (err) {
    const error = toAgentisoError(err);
    return { ...errorResult(task, worker, `${error.code}: ${error.message}`, performance.now() - turn), phasesMs: roundPhases(phases) };
  }
}

type OpencodeRun = Awaited<ReturnType<typeof streamOpencode>>;

function judgedResult(task: PlanTask, run: OpencodeRun, changes: CollectedChanges, usage: TaskUsage): Omit<TaskResult, "durationMs"> {
  const judged = judgeOpencodeRun(run.parser.end(), {
    exitCode: run.exec.exitCode,
    signal: run.exec.signal,
    timedOut: run.exec.timedOut,
    filesChanged: changes.files.length > 0,
    durationMs: Math.round(run.exec.durationMs),
    stderrTail: run.stderr.slice(-2000),
  });
  return {
    name: task.name,
    status: judged.status,
    reason: judged.reason,
    summary: judged.finalText,
    toolCalls: judged.toolCalls.map((c) => ({ tool: c.tool, status: c.status, ...(c.title && { title: c.title }), ...(c.error && { error: c.error }) })),
    tokens: usage.tokens,
    opencodeTokens: judged.tokens,
    costUsd: usage.costUsd || judged.costUsd,
    filesChanged: changes.files,
    patch: changes.patch,
    exitCode: judged.exitCode,
    steps: judged.steps,
    ...(judged.sessionId !== undefined && { sessionId: judged.sessionId }),
  };
}

// opencode's stdout carries whatever the worker and the model make it print: it is held up to
// [caps] agentOutputBytes, and one byte more ends the run with TOO_LARGE. Also runs the
// integration's resolver and reviewer (task: their pseudo-task, prepared.command: their prompt).
export async function streamOpencode(ctx: TaskRunContext, task: PlanTask, prepared: PreparedWorker) {
  const { command, guest, access } = prepared;
  const parser = new OpencodeEventParser();
  const stdout = new CappedBytes({ what: `opencode's output in task ${task.name}`, maxBytes: ctx.caps.agentOutputBytes, setting: "[caps] agentOutputBytes", keep: "all" });
  const stderr = new CappedBytes({ what: "opencode's stderr", maxBytes: Infinity, keep: "tail", windowBytes: 8192 });
  const stream = guest.execStream({ argv: command.argv, env: command.env, cwd: task.workdir, commandTimeoutMs: ctx.timeoutMs }, { signal: ctx.signal });
  for await (const chunk of stream) {
    if (chunk.fd !== 1) {
      stderr.push(chunk.data);
      continue;
    }
    stdout.push(chunk.data);
    if (parser.push(chunk.data).some((e) => e.type === "step_finish")) {
      ctx.progress({ type: "task_state", task: task.name, state: "running", worker: prepared.name, tokens: totalTokens(access.usage().tokens) });
    }
  }
  return { parser, raw: stdout.toString(), stderr: stderr.toString(), exec: await stream.result };
}

function roundPhases(phases: TaskPhases): TaskPhases {
  return Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v)])) as unknown as TaskPhases;
}

// The result of a task that never produced one of its own (cancelled, crashed, daemon gone).
export function errorResult(task: Pick<PlanTask, "name">, worker: string | undefined, reason: string, durationMs: number): TaskResult {
  return {
    name: task.name,
    status: "error",
    reason,
    summary: "",
    toolCalls: [],
    tokens: zeroUsage(),
    opencodeTokens: { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 },
    costUsd: 0,
    durationMs: Math.round(durationMs),
    filesChanged: [],
    patch: "",
    ...(worker !== undefined && { worker }),
    exitCode: null,
    steps: 0,
  };
}
