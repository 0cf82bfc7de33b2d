// What decides a task's status once the agent finished: the plan's verify commands. A failure
// with retries left continues the agent's session with the failing command and its output, then
// verifies again; after the last failure the task is `unverified`. The steps (verify, continue
// the agent) come from the caller, so the decision is tested without workers.
import type { TaskStatus, TaskVerification } from "./task-result.js";
import { describeVerifyFailure, type VerifyOutcome } from "./verify.js";

/** One agent run, judged (and its changes collected) by the caller. */
export interface AgentAttempt {
  status: TaskStatus;
  reason: string;
}

export interface VerifySteps<A extends AgentAttempt> {
  verify(): Promise<VerifyOutcome>;
  /** Continues the same agent session with this prompt; resolves with that run, judged. */
  continueAgent(prompt: string): Promise<A>;
}

export interface VerifiedAttempts<A extends AgentAttempt> {
  /** The first run, then every continued run, in order; the last one's changes are the task's. */
  runs: A[];
  status: TaskStatus;
  reason: string;
  /** Absent when verification never ran (the agent itself did not succeed). */
  verify?: TaskVerification;
}

type VerifyFailure = Extract<VerifyOutcome, { passed: false }>;

// Verifies a succeeded run, continuing the agent up to `retries` times after failures.
export async function verifyWithRetries<A extends AgentAttempt>(first: A, steps: VerifySteps<A>, retries: number): Promise<VerifiedAttempts<A>> {
  const runs = [first];
  if (first.status !== "succeeded") return { runs, status: first.status, reason: first.reason };
  for (let attempts = 1; ; attempts++) {
    const outcome = await steps.verify();
    if (outcome.passed) return { runs, status: "succeeded", reason: "", verify: { passed: true, attempts } };
    const verify = failedVerification(outcome, attempts);
    const failure = describeVerifyFailure(outcome);
    if (attempts > retries) return { runs, status: "unverified", reason: attempts > 1 ? `${failure} (after ${attempts} attempts)` : failure, verify };
    const next = await steps.continueAgent(verifyRetryPrompt(outcome));
    runs.push(next);
    if (next.status !== "succeeded") return { runs, status: next.status, reason: `${failure}; the continued agent run then did not finish: ${next.reason}`, verify };
  }
}

function failedVerification(outcome: VerifyFailure, attempts: number): TaskVerification {
  const { command, exitCode, timedOut, outputTail } = outcome;
  return { passed: false, attempts, command, exitCode, timedOut, outputTail };
}

// The next user message of the continued session: what failed and what it printed.
export function verifyRetryPrompt(outcome: VerifyFailure): string {
  return [
    `Your changes did not pass verification: ${describeVerifyFailure(outcome)}.`,
    "The end of its output:",
    "```",
    outcome.outputTail.trimEnd(),
    "```",
    "Fix the code so that this command passes, then reply with a short summary.",
  ].join("\n");
}
