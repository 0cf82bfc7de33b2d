// runChecked: one helper for commands in a workspace that must succeed. Each caller keeps the
// error code and wording its users know; these cases pin the wordings the callers use.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isAgentisoError } from "../../src/core/errors.js";
import type { ExecOptions, ExecResult } from "../../src/guest/client-types.js";
import { runChecked, shellQuote, type CommandRunner } from "../../src/guest/run-checked.js";

function guestAnswering(result: Partial<ExecResult>): CommandRunner & { asked: ExecOptions[] } {
  const asked: ExecOptions[] = [];
  return {
    asked,
    exec: async (command) => {
      asked.push(command);
      return { exitCode: 0, signal: null, timedOut: false, truncated: false, durationMs: 1, stdout: "", stderr: "", ...result };
    },
  };
}

async function failureOf(promise: Promise<unknown>) {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(isAgentisoError(err), `expected an AgentisoError, got ${String(err)}`);
  return err;
}

describe("runChecked", () => {
  test("a zero exit resolves with the output, and the command goes out with its cwd, env, deadline and cap", async () => {
    const guest = guestAnswering({ stdout: "abc\n" });
    const result = await runChecked(guest, { argv: ["git", "rev-parse", "HEAD"] }, { what: "git rev-parse", cwd: "/w", env: { A: "1" }, timeoutMs: 5000, maxOutputBytes: 10 });
    assert.equal(result.stdout, "abc\n");
    assert.deepEqual(guest.asked, [{ argv: ["git", "rev-parse", "HEAD"], cwd: "/w", env: { A: "1" }, commandTimeoutMs: 5000, maxOutputBytes: 10 }]);
  });

  test("by default a non-zero exit is BACKEND_FAILED: what, 'exited with N', stderr then stdout", async () => {
    const err = await failureOf(runChecked(guestAnswering({ exitCode: 2, stdout: "out", stderr: "err " }), { shell: "false" }, { what: "applying t's patch" }));
    assert.equal(err.code, "BACKEND_FAILED");
    assert.equal(err.message, "applying t's patch exited with 2: err out");
    assert.deepEqual(err.details, { command: "false", exitCode: 2, timedOut: false });
  });

  test("a timeout names the deadline only when the caller set one; a kill names the signal", async () => {
    const timedOut = { exitCode: null, signal: "SIGKILL", timedOut: true };
    assert.equal((await failureOf(runChecked(guestAnswering(timedOut), { shell: "sleep 9" }, { what: "x" }))).message, "x timed out");
    assert.equal((await failureOf(runChecked(guestAnswering(timedOut), { shell: "sleep 9" }, { what: "x", timeoutMs: 1000 }))).message, "x timed out after 1000 ms");
    assert.equal((await failureOf(runChecked(guestAnswering({ exitCode: null, signal: "SIGTERM" }), { shell: "x" }, { what: "x" }))).message, "x was killed by SIGTERM");
  });

  test("git's wording: INVALID_STATE, 'failed (exit N)', stderr else stdout, the colon even with no output", async () => {
    const git = { what: "git status in /w", errorCode: "INVALID_STATE", wording: "failed-exit", output: "stderr|stdout", noOutput: "" } as const;
    const err = await failureOf(runChecked(guestAnswering({ exitCode: 128, stdout: "ignored", stderr: "fatal: not a git repository\n" }), { argv: ["git"] }, git));
    assert.equal(err.code, "INVALID_STATE");
    assert.equal(err.message, "git status in /w failed (exit 128): fatal: not a git repository");
    assert.equal((await failureOf(runChecked(guestAnswering({ exitCode: 1 }), { argv: ["git"] }, git))).message, "git status in /w failed (exit 1): ");
  });

  test("a setup command's wording: stdout then stderr, its own tail length, a stand-in for no output, extra details", async () => {
    const setup = { what: 'setup command 1 ("make")', errorCode: "INVALID_STATE", output: "stdout+stderr", tailChars: 5, noOutput: "(no output)", details: { index: 0 } } as const;
    const err = await failureOf(runChecked(guestAnswering({ exitCode: 4, stdout: "about ", stderr: "broken" }), { shell: "make" }, setup));
    assert.equal(err.message, 'setup command 1 ("make") exited with 4: roken');
    assert.deepEqual(err.details, { command: "make", exitCode: 4, timedOut: false, index: 0 });
    assert.equal((await failureOf(runChecked(guestAnswering({ exitCode: 4 }), { shell: "make" }, setup))).message, 'setup command 1 ("make") exited with 4: (no output)');
  });

  test("the disk sync's wording: just 'failed' and stderr alone", async () => {
    const err = await failureOf(runChecked(guestAnswering({ exitCode: 1, stdout: "x", stderr: "I/O error\n" }), { argv: ["sync"] }, { what: "sync inside the workspace", wording: "failed", output: "stderr", noOutput: "" }));
    assert.equal(err.message, "sync inside the workspace failed: I/O error");
  });

  test("allowFailure returns a non-zero exit instead of throwing", async () => {
    const result = await runChecked(guestAnswering({ exitCode: 1 }), { argv: ["git", "diff", "--quiet"] }, { what: "git diff", allowFailure: true });
    assert.equal(result.exitCode, 1);
  });

  test("shellQuote survives quotes, spaces and $ in sh", () => {
    assert.equal(shellQuote("it's $HOME"), `'it'\\''s $HOME'`);
  });
});
