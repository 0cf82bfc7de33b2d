// [run] verify with the real opencode in runc workers: the verify command checks what the agent
// wrote; a failure continues the same opencode session (opencode run --session) with the failing
// command's output, and the stub answers that continued session with its own rule.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { orchestrateFixture, stubPlanToml } from "../support/orchestrate-fixture.js";
import type { StubScriptInput } from "../../src/llm/stub-script.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));

/** Fails (exit 1) while any *.out file says BAD, printing the offending lines. */
const VERIFY = "! grep -H BAD *.out";
/** From the retry prompt (verify-with-retries.ts): only a continued session's last user message has it. */
const RETRY_MARK = "did not pass verification";

type Rule = NonNullable<StubScriptInput["rules"]>[number];

function writes(task: string, content: string): Rule {
  return {
    name: task,
    match: { firstUserMessageContains: `TASK-${task}` },
    steps: [{ toolCalls: [{ name: "write", arguments: { filePath: `{{workdir}}/${task}.out`, content: `${content}\n` } }] }, { text: `Wrote ${task}.out.` }],
  };
}

// The continued session of `task`: rewrite its file from bash (a new opencode process has not read it).
function fixes(task: string, content: string): Rule {
  return {
    name: `fix-${task}`,
    match: { firstUserMessageContains: `TASK-${task}`, lastUserMessageContains: RETRY_MARK },
    countTurnsFrom: "last-user-message",
    steps: [{ toolCalls: [{ name: "bash", arguments: { command: `printf '%s\\n' '${content}' > ${task}.out`, description: "fix the output" } }] }, { text: "Fixed." }],
  };
}

interface Verify {
  passed: boolean;
  attempts: number;
  command?: string;
  exitCode?: number | null;
  timedOut?: boolean;
  outputTail?: string;
}

interface Report {
  tasks: Array<{ name: string; status: string; reason: string; patch: string; verify?: Verify; phasesMs?: { verify?: number }; tokens: { input: number }; sessionId?: string }>;
  totals: { tokens: { input: number; output: number }; succeeded: number; failed: number };
}

describe("orchestrate with [run] verify", { skip, timeout: 1_200_000 }, () => {
  test("verify passes at once, passes after one continued session, or leaves the task unverified with the exit code and output", async () => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture({
      usage: { promptTokens: 100, completionTokens: 20 },
      rules: [fixes("retry", "GOOD after verify"), fixes("stuck", "BAD still"), writes("quick", "GOOD at once"), writes("retry", "BAD at first"), writes("stuck", "BAD at first")],
      default: { text: "title" },
    });
    const run = `verify = ["${VERIFY}"]\nverify_retries = 1\nverify_timeout = "1m"`;
    const plan = fixture.plan(stubPlanToml({ repo: fixture.repo, stubUrl: fixture.stub.url, tasks: ["quick", "retry", "stuck"], keyEnv: "AGENTISO_TEST_KEY", maxParallel: 2, run }));
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-test-verify" });
    const results = join(fixture.dir, "results");
    const done = await cli.run(["orchestrate", plan, "--results", results], { timeoutMs: 900_000 });
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
    const byName = Object.fromEntries(report.tasks.map((t) => [t.name, t]));
    const { quick, retry, stuck } = byName as Record<string, Report["tasks"][number]>;
    assert.equal(done.code, 1, `one task stays unverified, so exit 1: ${done.stderr}`);

    assert.equal(quick!.status, "succeeded", quick!.reason);
    assert.deepEqual(quick!.verify, { passed: true, attempts: 1 });
    assert.match(quick!.patch, /\+GOOD at once/);
    assert.equal(typeof quick!.phasesMs?.verify, "number");

    assert.equal(retry!.status, "succeeded", retry!.reason);
    assert.deepEqual(retry!.verify, { passed: true, attempts: 2 });
    assert.match(retry!.patch, /\+GOOD after verify/);
    assert.doesNotMatch(retry!.patch, /BAD/, "the patch is the continued run's, the one verified");
    const retryPrompts = fixture.stub.requests.filter((r) => r.rule === "fix-retry").map((r) => JSON.stringify(r.body));
    assert.equal(retryPrompts.length, 2, "the continued session ran its two steps");
    assert.ok(retryPrompts[0]!.includes("retry.out:BAD at first"), "the continued session was told what verify printed");
    assert.ok(retryPrompts[0]!.includes("TASK-retry"), "the continued session carries the first run's conversation");
    assert.ok(retry!.tokens.input > quick!.tokens.input, "the continued run's tokens are counted");

    assert.equal(stuck!.status, "unverified");
    assert.equal(stuck!.reason, `verify command \`${VERIFY}\` exited with 1 (after 2 attempts)`);
    assert.deepEqual({ ...stuck!.verify, outputTail: undefined }, { passed: false, attempts: 2, command: VERIFY, exitCode: 1, timedOut: false, outputTail: undefined });
    assert.match(stuck!.verify!.outputTail!, /stuck\.out:BAD still/);
    assert.match(stuck!.patch, /\+BAD still/);

    const billed = fixture.stub.usageTotals();
    assert.equal(report.totals.tokens.input, billed.promptTokens, "every request of every run is in the totals");
    assert.deepEqual({ succeeded: report.totals.succeeded, failed: report.totals.failed }, { succeeded: 2, failed: 1 });
    const markdown = readFileSync(join(results, "report.md"), "utf8");
    assert.match(markdown, /\(1 unverified/);
    assert.match(markdown, /## Verification[\s\S]*\| stuck \| `! grep -H BAD \*\.out` exit 1 \| 2 \|[\s\S]*stuck\.out:BAD still/);
  });
});
