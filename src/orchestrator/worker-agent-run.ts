// One more opencode run in an already prepared worker, with a prompt of its own: the
// integration's resolver and reviewer. Same command, tunnel, caps and judging as a task's run
// (task-runner.ts); only the prompt and the label in errors differ.
import { toAgentisoError } from "../core/errors.js";
import type { TokenUsage } from "../llm/token-usage.js";
import { judgeOpencodeRun } from "./opencode/run-outcome.js";
import type { AgentRun } from "./integration-result.js";
import { streamOpencode } from "./task-runner.js";
import type { TaskRunContext } from "./task-run-context.js";
import type { PreparedWorker } from "./worker-prep.js";

// Runs opencode with prompt in workdir of the prepared worker; never throws (a failure is a status and a reason).
export async function runAgentInWorker(ctx: TaskRunContext, worker: PreparedWorker, run: { label: string; prompt: string; workdir: string }): Promise<AgentRun> {
  const started = performance.now();
  const before = worker.access.usage().tokens;
  const quiet: TaskRunContext = { ...ctx, progress: () => {} };
  try {
    const command = worker.commandFor(run.prompt);
    const out = await streamOpencode(quiet, { name: run.label, prompt: run.prompt, workdir: run.workdir }, { ...worker, command }, command.argv);
    const judged = judgeOpencodeRun(out.parser.end(), {
      exitCode: out.exec.exitCode,
      signal: out.exec.signal,
      timedOut: out.exec.timedOut,
      ...(out.stalledForMs !== undefined && { stalledForMs: out.stalledForMs }),
      durationMs: Math.round(out.exec.durationMs),
      stderrTail: out.stderr.slice(-2000),
    });
    return { status: judged.status, reason: judged.reason, summary: judged.finalText, tokens: subtractUsage(worker.access.usage().tokens, before), durationMs: Math.round(performance.now() - started) };
  } catch (err) {
    const error = toAgentisoError(err);
    return { status: "error", reason: `${error.code}: ${error.message}`, summary: "", tokens: subtractUsage(worker.access.usage().tokens, before), durationMs: Math.round(performance.now() - started) };
  }
}

// What the worker's tunnel metered since `before` (the worker may run several agents in turn).
function subtractUsage(now: TokenUsage, before: TokenUsage): TokenUsage {
  return {
    input: now.input - before.input,
    output: now.output - before.output,
    reasoning: now.reasoning - before.reasoning,
    cacheRead: now.cacheRead - before.cacheRead,
    cacheWrite: now.cacheWrite - before.cacheWrite,
  };
}
