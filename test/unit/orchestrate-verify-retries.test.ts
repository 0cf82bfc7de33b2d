// The verification decision with scripted steps: verify outcomes in order, continued agent
// runs recorded with their prompts. What status, attempts and verify object a task ends with.
import { test } from "node:test";
import assert from "node:assert/strict";
import { verifyWithRetries, type AgentAttempt } from "../../src/orchestrator/verify-with-retries.js";
import type { VerifyOutcome } from "../../src/orchestrator/verify.js";

const PASS: VerifyOutcome = { passed: true, durationMs: 5 };

function failing(outputTail: string, exitCode: number | null = 1, timedOut = false): VerifyOutcome {
  return { passed: false, durationMs: 5, command: "npm test", exitCode, timedOut, outputTail };
}

interface Run extends AgentAttempt {
  n: number;
}

const done = (n: number): Run => ({ status: "succeeded", reason: "", n });

function scripted(outcomes: VerifyOutcome[], continued: Run[] = []) {
  const prompts: string[] = [];
  let verifies = 0;
  return {
    prompts,
    verifies: () => verifies,
    steps: {
      verify: async () => outcomes[verifies++] ?? assert.fail("verify ran more often than scripted"),
      continueAgent: async (prompt: string) => {
        prompts.push(prompt);
        return continued[prompts.length - 1] ?? assert.fail("the agent was continued more often than scripted");
      },
    },
  };
}

test("verify passing at once: succeeded after 1 attempt, the agent is not continued", async () => {
  const s = scripted([PASS]);
  const result = await verifyWithRetries(done(1), s.steps, 2);
  assert.deepEqual({ status: result.status, reason: result.reason, verify: result.verify }, { status: "succeeded", reason: "", verify: { passed: true, attempts: 1 } });
  assert.deepEqual(result.runs.map((r) => r.n), [1]);
  assert.deepEqual(s.prompts, []);
});

test("a failed verify with a retry left continues the session with the command and its output tail, then passes", async () => {
  const s = scripted([failing("AssertionError: expected 3, got 2\n1 failing\n"), PASS], [done(2)]);
  const result = await verifyWithRetries(done(1), s.steps, 1);
  assert.equal(result.status, "succeeded");
  assert.deepEqual(result.verify, { passed: true, attempts: 2 });
  assert.deepEqual(result.runs.map((r) => r.n), [1, 2], "the continued run's changes are the task's");
  assert.equal(s.prompts.length, 1);
  assert.match(s.prompts[0]!, /verify command `npm test` exited with 1/);
  assert.match(s.prompts[0]!, /AssertionError: expected 3, got 2\n1 failing/);
});

test("verify failing after every retry: unverified, with the last failure's command, exit code and output", async () => {
  const s = scripted([failing("first"), failing("second"), failing("third", 2)], [done(2), done(3)]);
  const result = await verifyWithRetries(done(1), s.steps, 2);
  assert.equal(result.status, "unverified");
  assert.equal(result.reason, "verify command `npm test` exited with 2 (after 3 attempts)");
  assert.deepEqual(result.verify, { passed: false, attempts: 3, command: "npm test", exitCode: 2, timedOut: false, outputTail: "third" });
  assert.deepEqual(s.prompts.map((p) => /```\n(.*)\n```/.exec(p)?.[1]), ["first", "second"], "each retry shows the failure before it");
  assert.equal(s.verifies(), 3);
});

test("no retries: the first failure decides; a timed-out command says so", async () => {
  const s = scripted([failing("still running", null, true)]);
  const result = await verifyWithRetries(done(1), s.steps, 0);
  assert.equal(result.status, "unverified");
  assert.equal(result.reason, "verify command `npm test` timed out");
  assert.deepEqual(s.prompts, []);
});

test("an agent that did not succeed is not verified; a continued run that fails decides the status", async () => {
  const s = scripted([]);
  const failed = await verifyWithRetries({ status: "failed", reason: "no model step ran", n: 1 }, s.steps, 3);
  assert.deepEqual({ status: failed.status, reason: failed.reason, verify: failed.verify }, { status: "failed", reason: "no model step ran", verify: undefined });
  assert.equal(s.verifies(), 0);

  const t = scripted([failing("boom")], [{ status: "timeout", reason: "opencode did not finish in time (after 4 steps)", n: 2 }]);
  const timedOut = await verifyWithRetries(done(1), t.steps, 3);
  assert.equal(timedOut.status, "timeout");
  assert.match(timedOut.reason, /exited with 1; the continued agent run then did not finish: opencode did not finish in time/);
  assert.deepEqual(timedOut.verify, { passed: false, attempts: 1, command: "npm test", exitCode: 1, timedOut: false, outputTail: "boom" });
  assert.equal(t.verifies(), 1, "verify does not run after a continued run that did not finish");
});
