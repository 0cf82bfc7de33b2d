// What one task produced, as written to report.json, and the progress events a front door
// shows while the run goes on.
import type { OpencodeToolCall } from "./opencode/parse-events.js";
import type { TokenUsage } from "../llm/token-usage.js";

/** unverified: the agent finished but the plan's verify commands did not pass (see verify-with-retries.ts); stalled: opencode printed no event for stall_timeout. */
export type TaskStatus = "succeeded" | "failed" | "timeout" | "stalled" | "error" | "unverified";

export interface TaskResult {
  name: string;
  status: TaskStatus;
  /** Why it did not succeed (empty on success). */
  reason: string;
  /** The model's final answer. */
  summary: string;
  toolCalls: Array<Pick<OpencodeToolCall, "tool" | "status"> & { title?: string; error?: string }>;
  /** Tokens the provider billed for the task (metered by the proxy; includes title generation). */
  tokens: TokenUsage;
  /** Tokens opencode itself reported over its steps. */
  opencodeTokens: { input: number; output: number; reasoning: number; cacheRead: number; cacheWrite: number };
  costUsd: number;
  /** Upstream 429/503 answers the proxy got for this task (waited out, or passed on when they lasted too long). */
  throttled?: number;
  /** From the task's turn (a free slot) until its results were collected. */
  durationMs: number;
  /** Where the time went; fork and setup may have happened before the task's turn. */
  phasesMs?: TaskPhases;
  filesChanged: string[];
  /** The patch (git diff against the golden commit). */
  patch: string;
  worker?: string;
  /** What became of the worker: destroyed, kept on request, or left behind (destroy failed). */
  workerState?: "destroyed" | "kept" | "left";
  exitCode: number | null;
  steps: number;
  sessionId?: string;
  /** Set when the plan has verify commands and the agent got as far as verification. */
  verify?: TaskVerification;
}

/** How verification went: attempts counts verify runs; a failure names the command that decided. */
export type TaskVerification =
  | { passed: true; attempts: number }
  | { passed: false; attempts: number; command: string; exitCode: number | null; timedOut: boolean; outputTail: string };

export interface TaskPhases {
  fork: number;
  setup: number;
  /** How long the task waited, at its turn, for its worker to be ready. */
  waited: number;
  run: number;
  collect: number;
  /** Runs after the result, off the task's critical path. */
  destroy: number;
  /** The plan's verify commands, over all attempts (run and collect include continued runs). */
  verify?: number;
}

/** Task states in order; "ready": its worker is forked and set up, waiting for a free slot. */
export type ProgressEvent =
  /** workspace: the golden's name, announced before it exists so a front door can clean it up. */
  | { type: "golden"; step: string; workspace?: string }
  | { type: "golden_ready"; workspace: string; snapshot: string; commit: string }
  /** last: opencode's latest tool call or text, in one line (sent while running, at most every 2 s). */
  | { type: "task_state"; task: string; state: "queued" | "forking" | "ready" | "running" | "collecting" | "verifying"; worker?: string; tokens?: number; last?: string }
  | { type: "task_done"; task: string; result: TaskResult }
  | { type: "merge"; task: string; branch: string; ok: boolean; detail?: string }
  /** The planning step of a free-text task (planner.ts): its worker's state. */
  | { type: "planner"; step: string; worker?: string }
  /** merge = "integrate": a step (workspace: the integration worker) or one task's outcome. */
  | { type: "integrate"; workspace: string; step?: string; task?: string; outcome?: "applied" | "resolved" | "skipped"; detail?: string }
  | { type: "review"; verdict: "approve" | "reject" | "none"; gate: boolean };
