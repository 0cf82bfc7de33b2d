// One task in its prepared worker (see worker-prep.ts): run `opencode run --format json`,
// stream its events, collect the patch, verify it when the plan says how (verify-with-retries.ts),
// then outcome and tokens. Every failure becomes a result with a reason; nothing here throws
// past the task.
import { CappedBytes } from "../core/capped-bytes.js";
import { toAgentisoError } from "../core/errors.js";
import type { TaskUsage } from "../llm/task-spend.js";
import { totalTokens, zeroUsage } from "../llm/token-usage.js";
import { describeEvent, OpencodeEventParser } from "./opencode/parse-events.js";
import { judgeOpencodeRun, type OpencodeRunResult } from "./opencode/run-outcome.js";
import { continuedArgv } from "./opencode/opencode-command.js";
import { outputThroughFile } from "./opencode/output-through-file.js";
import { collectChanges, type CollectedChanges } from "../domain/collect-changes.js";
import type { PlanTask } from "./plan.js";
import type { TaskRunContext, VerifySettings } from "./task-run-context.js";
import { runVerify, type VerifyOutcome } from "./verify.js";
import { verifyWithRetries, type AgentAttempt, type VerifiedAttempts } from "./verify-with-retries.js";
import type { TaskPhases, TaskResult } from "./task-result.js";
import { GUEST_PATH, type PreparedWorker } from "./worker-prep.js";
import { StallWatchdog } from "./stall-watchdog.js";

const LAST_EVENT_EVERY_MS = 2000;

// Runs opencode in a prepared worker, verifies its work when the plan says how (continuing the
// session after a failed verify while retries remain) and collects its result. Never throws;
// leaves the worker running and its model tunnel open (the pool releases both). `turn` is when
// the task's slot came free.
export async function runPrepared(ctx: TaskRunContext, task: PlanTask, prepared: PreparedWorker, turn: number): Promise<TaskResult> {
  const { name: worker, access } = prepared;
  const phases: TaskPhases = { fork: prepared.forkMs, setup: prepared.setupMs, waited: performance.now() - turn, run: 0, collect: 0, destroy: 0 };
  try {
    const events: string[] = [];
    const attempt = (argv: string[]) => runAttempt(ctx, task, prepared, argv, phases, events);
    const first = await attempt(prepared.command.argv);
    const settings = ctx.verify;
    const checked = !settings?.commands.length
      ? { runs: [first], status: first.status, reason: first.reason }
      : await verifyWithRetries(
          first,
          {
            verify: () => timedVerify(ctx, task, prepared, settings, phases),
            continueAgent: (prompt) => attempt(continuedArgv(prepared.command, first.judged.sessionId, prompt)),
          },
          settings.retries,
        );
    return { ...judgedResult(task, checked, access.usage(), access.throttled()), durationMs: Math.round(performance.now() - turn), phasesMs: roundPhases(phases), worker };
  } catch (err) {
    const error = toAgentisoError(err);
    return { ...errorResult(task, worker, `${error.code}: ${error.message}`, performance.now() - turn), phasesMs: roundPhases(phases) };
  }
}

/** One opencode run of the task, judged, with the worker's changes collected right after it. */
interface Attempt extends AgentAttempt {
  judged: OpencodeRunResult;
  changes: CollectedChanges;
}

// Runs opencode with argv, then collects the changes: the patch is taken before verify runs, so
// it is what was verified and holds nothing verify itself wrote (build output, caches).
async function runAttempt(ctx: TaskRunContext, task: PlanTask, prepared: PreparedWorker, argv: string[], phases: TaskPhases, events: string[]): Promise<Attempt> {
  ctx.progress({ type: "task_state", task: task.name, state: "running", worker: prepared.name });
  const runStarted = performance.now();
  const run = await streamOpencode(ctx, task, prepared, argv);
  const collectStarted = performance.now();
  phases.run += collectStarted - runStarted;
  events.push(run.raw);
  ctx.onEvents?.(task.name, events.join(""));
  ctx.progress({ type: "task_state", task: task.name, state: "collecting", worker: prepared.name });
  const changes = await collectChanges(prepared.guest, task.workdir, prepared.baseline, { maxBytes: ctx.caps.patchBytes, what: `the patch of task ${task.name}`, signal: ctx.signal });
  phases.collect += performance.now() - collectStarted;
  const judged = judgeOpencodeRun(run.parser.end(), {
    exitCode: run.exec.exitCode,
    signal: run.exec.signal,
    timedOut: run.exec.timedOut,
    ...(run.stalledForMs !== undefined && { stalledForMs: run.stalledForMs }),
    filesChanged: changes.files.length > 0,
    durationMs: Math.round(run.exec.durationMs),
    stderrTail: run.stderr.slice(-2000),
  });
  return { status: judged.status, reason: judged.reason, judged, changes };
}

async function timedVerify(ctx: TaskRunContext, task: PlanTask, prepared: PreparedWorker, settings: VerifySettings, phases: TaskPhases): Promise<VerifyOutcome> {
  ctx.progress({ type: "task_state", task: task.name, state: "verifying", worker: prepared.name });
  const outcome = await runVerify(prepared.guest, settings.commands, { cwd: task.workdir, timeoutMs: settings.timeoutMs, signal: ctx.signal, env: { PATH: GUEST_PATH } });
  phases.verify = (phases.verify ?? 0) + outcome.durationMs;
  return outcome;
}

// The task's result over all its runs: the last run's answer and changes, everything counted.
function judgedResult(task: PlanTask, checked: VerifiedAttempts<Attempt>, usage: TaskUsage, throttled: number): Omit<TaskResult, "durationMs"> {
  const last = checked.runs.at(-1)!;
  const judged = checked.runs.map((r) => r.judged);
  const sessionId = judged.find((j) => j.sessionId !== undefined)?.sessionId;
  return {
    name: task.name,
    status: checked.status,
    reason: checked.reason,
    summary: last.judged.finalText,
    toolCalls: judged.flatMap((j) => j.toolCalls).map((c) => ({ tool: c.tool, status: c.status, ...(c.title && { title: c.title }), ...(c.error && { error: c.error }) })),
    tokens: usage.tokens,
    opencodeTokens: judged.reduce((sum, j) => sumOpencodeTokens(sum, j.tokens), zeroOpencodeTokens()),
    costUsd: usage.costUsd || judged.reduce((sum, j) => sum + j.costUsd, 0),
    throttled,
    filesChanged: last.changes.files,
    patch: last.changes.patch,
    exitCode: last.judged.exitCode,
    steps: judged.reduce((sum, j) => sum + j.steps, 0),
    ...(sessionId !== undefined && { sessionId }),
    ...(checked.verify && { verify: checked.verify }),
  };
}

type OpencodeTokens = TaskResult["opencodeTokens"];

function zeroOpencodeTokens(): OpencodeTokens {
  return { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 };
}

function sumOpencodeTokens(a: OpencodeTokens, b: OpencodeTokens): OpencodeTokens {
  return { input: a.input + b.input, output: a.output + b.output, reasoning: a.reasoning + b.reasoning, cacheRead: a.cacheRead + b.cacheRead, cacheWrite: a.cacheWrite + b.cacheWrite };
}

// opencode's stdout carries whatever the worker and the model make it print: it is held up to
// [caps] agentOutputBytes, and one byte more ends the run with TOO_LARGE. A run that prints no
// event for [run] stall_timeout is stopped (stall-watchdog.ts) and judged stalled. Also runs
// the integration's resolver and reviewer (task: their pseudo-task, argv: their prompt's).
export async function streamOpencode(ctx: TaskRunContext, task: PlanTask, prepared: PreparedWorker, argv: string[]) {
  const { command, guest, access } = prepared;
  const parser = new OpencodeEventParser();
  const stdout = new CappedBytes({ what: `opencode's output in task ${task.name}`, maxBytes: ctx.caps.agentOutputBytes, setting: "[caps] agentOutputBytes", keep: "all" });
  const stderr = new CappedBytes({ what: "opencode's stderr", maxBytes: Infinity, keep: "tail", windowBytes: 8192 });
  using watchdog = new StallWatchdog(ctx.stallTimeoutMs);
  const started = performance.now();
  // the latest tool call or text, passed on with progress at most every LAST_EVENT_EVERY_MS (live views)
  let [last, sent, sentAt]: [string | undefined, string | undefined, number] = [undefined, undefined, 0];
  const stream = guest.execStream({ argv: outputThroughFile(argv, command.runDir), env: command.env, cwd: task.workdir, commandTimeoutMs: ctx.timeoutMs }, { signal: AbortSignal.any([ctx.signal, watchdog.signal]) });
  try {
    for await (const chunk of stream) {
      if (chunk.fd !== 1) {
        stderr.push(chunk.data);
        continue;
      }
      stdout.push(chunk.data);
      const events = parser.push(chunk.data);
      if (events.length > 0) watchdog.touch();
      last = events.map(describeEvent).filter((text) => text !== undefined).at(-1) ?? last;
      const stepDone = events.some((e) => e.type === "step_finish");
      if (stepDone || (last !== sent && performance.now() - sentAt >= LAST_EVENT_EVERY_MS)) {
        ctx.progress({ type: "task_state", task: task.name, state: "running", worker: prepared.name, tokens: totalTokens(access.usage().tokens), ...(last !== undefined && { last }) });
        [sent, sentAt] = [last, performance.now()];
      }
    }
  } catch (err) {
    if (!watchdog.stalled || ctx.signal.aborted) throw err;
    const exec = { exitCode: null, signal: "SIGKILL", timedOut: false, truncated: false, durationMs: performance.now() - started };
    return { parser, raw: stdout.toString(), stderr: stderr.toString(), exec, stalledForMs: watchdog.silenceMs };
  }
  return { parser, raw: stdout.toString(), stderr: stderr.toString(), exec: await stream.result, stalledForMs: undefined as number | undefined };
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
    opencodeTokens: zeroOpencodeTokens(),
    costUsd: 0,
    durationMs: Math.round(durationMs),
    filesChanged: [],
    patch: "",
    ...(worker !== undefined && { worker }),
    exitCode: null,
    steps: 0,
  };
}
