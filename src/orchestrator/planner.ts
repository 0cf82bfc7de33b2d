// The planning step of a free-text task: a fork of the golden runs opencode with the planning
// prompt (worker-prep + task-runner, like any task: its own proxy handle meters its tokens),
// its final answer becomes the plan's tasks (planner-answer.ts), one retry carries the
// validation error, and the plan is written as plan.toml. No worker is forked before it ends.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import type { TokenUsage } from "../llm/token-usage.js";
import { withPrompt } from "./opencode/opencode-command.js";
import type { Plan, PlanTask } from "./plan.js";
import { planToToml } from "./plan-toml.js";
import { parsePlannerAnswer, type PlannerAnswer } from "./planner-answer.js";
import { planningPrompt, retryPrompt } from "./planner-prompt.js";
import { writeResult } from "./results-file.js";
import { runPrepared } from "./task-runner.js";
import type { TaskRunContext } from "./task-run-context.js";
import type { ProgressEvent, TaskResult } from "./task-result.js";
import { destroyWorker, prepareWorker, workerName, type PreparedWorker } from "./worker-prep.js";

/** The task name the planner's worker, proxy handle and events files go by. */
export const PLANNER_TASK = "planner";
const ATTEMPTS = 2;

export interface PlannerRequest {
  /** The free-text task. */
  task: string;
  maxTasks: number;
  planOnly: boolean;
  /** Where plan.toml and the raw answers go. */
  resultsDir: string;
}

/** The report's planner section. */
export interface PlannerInfo {
  planPath: string;
  planOnly: boolean;
  attempts: number;
  tokens: TokenUsage;
  costUsd: number;
  durationMs: number;
  /** The generated tasks' names, in plan order. */
  tasks: string[];
  /** Subtasks the model listed beyond maxTasks (after de-duplication). */
  dropped: number;
  worker: string;
}

// Fills plan.task from the planner's answer and writes plan.toml; throws BACKEND_FAILED naming
// the raw answer's file when the model answers nonsense twice.
export async function planTasks(ctx: TaskRunContext, plan: Plan, request: PlannerRequest): Promise<PlannerInfo> {
  const started = performance.now();
  const task: PlanTask = { name: PLANNER_TASK, prompt: planningPrompt(request.task, request.maxTasks), workdir: ctx.golden.repoDir };
  const quiet = plannerContext(ctx);
  await mkdir(request.resultsDir, { recursive: true });
  quiet.progress({ type: "task_state", task: PLANNER_TASK, state: "forking", worker: workerName(ctx, task) });
  const prep = await prepareWorker(quiet, task);
  if (!prep.ok) throw new AgentisoError("BACKEND_FAILED", `the planner's worker could not be prepared: ${prep.reason}`);
  let attempts: Attempt[];
  try {
    attempts = await attempt(quiet, task, prep.worker, request);
  } finally {
    await prep.worker[Symbol.asyncDispose]();
    if (!ctx.keepWorkers) await destroyWorker(ctx, prep.worker.name);
  }
  const last = attempts.at(-1)!;
  if (!last.answer.ok) {
    const files = attempts.map((a) => a.file);
    throw new AgentisoError(
      "BACKEND_FAILED",
      `the planner did not answer with a valid list of subtasks in ${attempts.length} attempts (${last.answer.error}); its raw answer is in ${files.at(-1)} (first attempt: ${files[0]}); no worker was forked`,
    );
  }
  plan.task = last.answer.tasks.map((t) => ({ name: t.name, prompt: t.prompt, workdir: ctx.golden.repoDir, files: t.files }));
  const planPath = join(request.resultsDir, "plan.toml");
  await writeResult(planPath, planToToml(plan, [`Written by the agentiso planner for: ${request.task.replaceAll("\n", " ").slice(0, 200)}`, `Run it with: agentiso orchestrate ${planPath}`]));
  return {
    planPath,
    planOnly: request.planOnly,
    attempts: attempts.length,
    tokens: last.result.tokens,
    costUsd: last.result.costUsd,
    durationMs: Math.round(performance.now() - started),
    tasks: plan.task.map((t) => t.name),
    dropped: last.answer.dropped,
    worker: prep.worker.name,
  };
}

interface Attempt {
  result: TaskResult;
  answer: PlannerAnswer;
  file: string;
}

// At most two runs in the same worker; the second is told why the first was refused.
async function attempt(ctx: TaskRunContext, task: PlanTask, worker: PreparedWorker, request: PlannerRequest): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  for (let n = 1; n <= ATTEMPTS; n++) {
    const previous = attempts.at(-1);
    const command = previous && !previous.answer.ok ? withPrompt(worker.command, retryPrompt(request.task, request.maxTasks, previous.answer.error)) : worker.command;
    const runCtx = { ...ctx, ...(ctx.onEvents && { onEvents: (_: string, ndjson: string) => ctx.onEvents!(`${PLANNER_TASK}-${n}`, ndjson) }) };
    const result = await runPrepared(runCtx, task, { ...worker, command }, performance.now());
    if (ctx.signal.aborted) throw new AgentisoError("CANCELLED", "the orchestration was cancelled while planning");
    const answer: PlannerAnswer = result.status === "succeeded" ? parsePlannerAnswer(result.summary, request.maxTasks) : { ok: false, error: `the planning run ${result.status}: ${result.reason}` };
    const file = join(request.resultsDir, `${PLANNER_TASK}-answer-${n}.txt`);
    await writeResult(file, result.summary.length > 0 ? result.summary : `(no final answer: ${result.status}: ${result.reason})\n`);
    attempts.push({ result, answer, file });
    if (answer.ok) break;
  }
  return attempts;
}

// The planner is not one of the plan's tasks: its progress goes out as planner events, and
// the plan's verify commands are not run on it (it reads the repository, it changes nothing).
function plannerContext(ctx: TaskRunContext): TaskRunContext {
  const progress = (event: ProgressEvent) => {
    if (event.type === "task_state" && event.task === PLANNER_TASK) ctx.progress({ type: "planner", step: event.state, ...(event.worker !== undefined && { worker: event.worker }) });
    else ctx.progress(event);
  };
  const { verify: _notForThePlanner, ...rest } = ctx;
  return { ...rest, progress };
}
