// Decides what an opencode run achieved. Exit code 0 is not success: permission
// rejections, calls to tools the config removed (tool `invalid`) and runs that stop after
// a tool-calls step all exit 0. The caller adds what only it knows: exit code, timeout,
// and whether the workspace changed.
import type { OpencodeError, OpencodeToolCall, ParsedOpencodeRun } from "./parse-events.js";

export type OpencodeRunStatus = "succeeded" | "failed" | "timeout" | "stalled" | "error";

export interface RunFacts {
  /** null when the process was killed by a signal. */
  exitCode: number | null;
  /** The signal that killed it, when known. */
  signal?: string | null;
  timedOut?: boolean;
  /** Set when the caller stopped the run because it printed no event for this long ([run] stall_timeout). */
  stalledForMs?: number;
  /** Whether files in the workspace changed; unknown counts as "no change". */
  filesChanged?: boolean;
  /** Wall time measured by the caller; else taken from event timestamps. */
  durationMs?: number;
  /** Tail of stderr, used in the reason when opencode printed no event. */
  stderrTail?: string;
}

export interface OpencodeRunResult {
  /** succeeded | failed (the agent ran, the task did not get done) | timeout | stalled (no event for the stall timeout) | error (opencode itself could not run) */
  status: OpencodeRunStatus;
  /** One sentence for humans; empty on success. */
  reason: string;
  finalText: string;
  toolCalls: OpencodeToolCall[];
  tokens: ParsedOpencodeRun["tokens"];
  costUsd: number;
  steps: number;
  sessionId: string | undefined;
  durationMs: number | undefined;
  exitCode: number | null;
  errors: OpencodeError[];
}

const PERMISSION_REJECTED = /rejected permission/i;

// Combines the parsed events with the caller's facts into a status and a reason.
export function judgeOpencodeRun(run: ParsedOpencodeRun, facts: RunFacts): OpencodeRunResult {
  const [status, reason] = classify(run, facts);
  const fromEvents = run.firstTimestamp !== undefined && run.lastTimestamp !== undefined ? run.lastTimestamp - run.firstTimestamp : undefined;
  return {
    status,
    reason,
    finalText: run.finalText,
    toolCalls: run.toolCalls,
    tokens: run.tokens,
    costUsd: run.costUsd,
    steps: run.steps,
    sessionId: run.sessionId,
    durationMs: facts.durationMs ?? fromEvents,
    exitCode: facts.exitCode,
    errors: run.errors,
  };
}

function classify(run: ParsedOpencodeRun, facts: RunFacts): [OpencodeRunStatus, string] {
  if (facts.timedOut) return ["timeout", `opencode did not finish in time (after ${run.steps} steps)`];
  if (facts.stalledForMs !== undefined) return ["stalled", `opencode printed no event for ${Math.round(facts.stalledForMs / 1000)} s and was stopped (after ${run.steps} steps)`];
  if (run.events.length === 0 && facts.exitCode !== 0) {
    const how = facts.exitCode === null ? "was killed" : `exited with ${facts.exitCode}`;
    return ["error", `opencode ${how} before printing any event${stderrSuffix(facts)}`];
  }
  const error = run.errors[0];
  if (error) {
    const status = error.statusCode === undefined ? "" : ` (HTTP ${error.statusCode})`;
    return ["failed", `model provider error ${error.name}${status}: ${error.message}`];
  }
  // Killed from outside (OOM, a person, a dying worker): the run did not fail, it was stopped.
  if (facts.exitCode === null) return ["error", `opencode was killed${facts.signal ? ` by ${facts.signal}` : ""} after ${run.steps} steps`];
  if (facts.exitCode !== 0) return ["failed", `opencode exited with ${facts.exitCode}${stderrSuffix(facts)}`];
  const rejected = run.toolCalls.filter((call) => call.status === "error" && PERMISSION_REJECTED.test(call.error ?? ""));
  if (rejected.length) return ["failed", `permission rejected for ${names(rejected.map((c) => c.tool))}: a headless run cannot ask, allow or deny it in the config`];
  if (run.steps === 0) return ["failed", "no model step ran"];
  if (run.lastStepReason !== "stop") return ["failed", `the run ended without a final answer (last step: ${run.lastStepReason ?? "unfinished"})${stderrSuffix(facts)}`];
  return judgeToolProblems(run, facts);
}

function judgeToolProblems(run: ParsedOpencodeRun, facts: RunFacts): [OpencodeRunStatus, string] {
  const invalid = run.toolCalls.filter((call) => call.tool === "invalid");
  const failed = run.toolCalls.filter((call) => call.tool !== "invalid" && call.status === "error");
  if ((invalid.length || failed.length) && !facts.filesChanged) {
    if (invalid.length) {
      const wanted = invalid.map((call) => String((call.input as { tool?: unknown } | undefined)?.tool ?? "?"));
      return ["failed", `the model called unavailable tools (${names(wanted)}) and nothing changed`];
    }
    return ["failed", `${failed.length} tool call(s) failed (${names(failed.map((c) => c.tool))}) and nothing changed`];
  }
  return ["succeeded", ""];
}

// What opencode said on stderr last, for reasons its events do not explain.
function stderrSuffix(facts: RunFacts): string {
  const tail = facts.stderrTail?.trim().slice(-500);
  return tail ? `: ${tail}` : "";
}

function names(list: string[]): string {
  return [...new Set(list)].join(", ");
}
