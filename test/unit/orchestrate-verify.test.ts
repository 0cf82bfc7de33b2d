// runVerify against a stand-in guest: commands run in order in the repo, the first failure
// decides, its output tail is kept, and no commands means passed.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ExecOptions, ExecResult } from "../../src/guest/client-types.js";
import { describeVerifyFailure, runVerify, VERIFY_OUTPUT_TAIL_CHARS } from "../../src/orchestrator/verify.js";

function guestAnswering(answers: Record<string, Partial<ExecResult>>) {
  const ran: ExecOptions[] = [];
  return {
    ran,
    async exec(command: ExecOptions): Promise<ExecResult> {
      ran.push(command);
      const answer = answers[command.shell ?? ""] ?? {};
      return { exitCode: 0, signal: null, timedOut: false, truncated: false, stdout: "", stderr: "", durationMs: 1, ...answer };
    },
  };
}

test("verify runs each command in the repo in order and passes when all exit 0", async () => {
  const guest = guestAnswering({});
  const outcome = await runVerify(guest, ["npm run lint", "npm test"], { cwd: "/workspace", timeoutMs: 60_000 });
  assert.equal(outcome.passed, true);
  assert.deepEqual(guest.ran.map((c) => [c.shell, c.cwd, c.commandTimeoutMs]), [["npm run lint", "/workspace", 60_000], ["npm test", "/workspace", 60_000]]);
});

test("the first failing command decides, later ones do not run, and the output tail is kept", async () => {
  const long = "x".repeat(VERIFY_OUTPUT_TAIL_CHARS) + "the last words";
  const guest = guestAnswering({ "npm test": { exitCode: 1, stdout: long, stderr: "1 failing" } });
  const outcome = await runVerify(guest, ["true", "npm test", "never"], { cwd: "/w", timeoutMs: 1000 });
  assert.equal(outcome.passed, false);
  if (outcome.passed) return;
  assert.equal(outcome.command, "npm test");
  assert.equal(outcome.exitCode, 1);
  assert.equal(outcome.outputTail.length, VERIFY_OUTPUT_TAIL_CHARS);
  assert.ok(outcome.outputTail.endsWith("the last words1 failing"));
  assert.deepEqual(guest.ran.map((c) => c.shell), ["true", "npm test"]);
  assert.equal(describeVerifyFailure(outcome), "verify command `npm test` exited with 1");
});

test("a command past its deadline fails verify as timed out; no commands pass", async () => {
  const guest = guestAnswering({ "sleep 99": { exitCode: null, signal: "SIGKILL", timedOut: true } });
  const outcome = await runVerify(guest, ["sleep 99"], { cwd: "/w", timeoutMs: 10 });
  assert.ok(!outcome.passed && outcome.timedOut && describeVerifyFailure(outcome).endsWith("timed out"));
  assert.equal((await runVerify(guest, [], { cwd: "/w", timeoutMs: 10 })).passed, true);
});
