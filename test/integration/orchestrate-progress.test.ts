// Runs that stop making progress, with the real opencode in runc workers and the stub model:
// a provider that goes silent mid-stream ends the task as `stalled` within stall_timeout + 10 s
// (its partial changes still collected), and a 429 storm with Retry-After is ridden out by the
// proxy for all workers together, counted in the report, with no task failing.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { editTask, orchestrateFixture, stubPlanToml } from "../support/orchestrate-fixture.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));

interface Report {
  tasks: Array<{ name: string; status: string; reason: string; filesChanged: string[]; throttled?: number }>;
  totals: { succeeded: number; throttled?: number };
}

describe("orchestration progress: stalls and provider throttling", { skip, timeout: 900_000 }, () => {
  test("a model that stops answering mid-stream ends the task as stalled within stall_timeout + 10 s, partial changes kept", async () => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture({
      rules: [
        {
          name: "hung",
          match: { firstUserMessageContains: "TASK-hung" },
          steps: [
            { toolCalls: [{ name: "edit", arguments: { filePath: "{{workdir}}/a.txt", oldString: "one", newString: "ONE before the stall" } }] },
            { text: "this answer never ends", stallAfterChunks: 1 },
          ],
        },
      ],
    });
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-progress" });
    const results = join(fixture.dir, "results");
    const plan = fixture.plan(stubPlanToml({ repo: fixture.repo, stubUrl: fixture.stub.url, tasks: ["hung"], keyEnv: "AGENTISO_TEST_KEY", run: 'stall_timeout = "15s"\nmemory = "1G"' }));
    const child = spawn(process.execPath, [CLI, "orchestrate", plan, "--results", results], { env: cli.env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stoppedAt: number | undefined;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stoppedAt === undefined && /^hung: collecting/m.test(stderr)) stoppedAt = Date.now();
    });
    const done = new Promise<number | null>((resolve) => child.on("close", resolve));
    let stalledFrom: number | undefined;
    const watching = (async () => {
      while (stalledFrom === undefined && child.exitCode === null) {
        if (fixture.stub.requests.some((r) => r.rule === "hung" && r.stepIndex === 1)) stalledFrom = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const code = await done;
    await watching;
    assert.equal(code, 1, stderr);
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
    const hung = report.tasks[0]!;
    assert.equal(hung.status, "stalled", hung.reason);
    assert.match(hung.reason, /no event for 15 s/);
    const events = () => readFileSync(join(results, "hung.events.ndjson"), "utf8").slice(-4000);
    assert.deepEqual(hung.filesChanged, ["a.txt"], `the work done before the stall is collected; the stub saw ${JSON.stringify(fixture.stub.requests.map((r) => [r.rule, r.stepIndex]))}; opencode's events: ${events()}`);
    assert.ok(stalledFrom !== undefined && stoppedAt !== undefined, stderr);
    const silentMs = stoppedAt - stalledFrom;
    assert.ok(silentMs <= 25_000, `stopped ${silentMs} ms after the model went silent (stall_timeout 15 s + 10 s)`);
    assert.ok(silentMs >= 10_000, `not stopped before the stall timeout could pass (${silentMs} ms)`);
    assert.deepEqual(await cli.json(["ws", "ls"]), []);
  });

  test("a 429 storm with Retry-After is ridden out for all workers: every task succeeds, the report counts the throttled requests", async () => {
    await ensureImage("opencode");
    const storm = 6;
    await using fixture = await orchestrateFixture({ storm: { requests: storm, retryAfterSeconds: 1 }, rules: [editTask("busy-a", "a.txt"), editTask("busy-b", "b.txt")] });
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-progress" });
    const results = join(fixture.dir, "results");
    const plan = fixture.plan(
      stubPlanToml({ repo: fixture.repo, stubUrl: fixture.stub.url, tasks: ["busy-a", "busy-b"], keyEnv: "AGENTISO_TEST_KEY", model: "max_concurrency = 2", run: 'memory = "1G"' }),
    );
    const run = await cli.run(["orchestrate", plan, "--results", results], { timeoutMs: 600_000 });
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
    for (const task of report.tasks) assert.equal(task.status, "succeeded", `${task.name}: ${task.reason}`);
    assert.equal(fixture.stub.requests.filter((r) => r.status === 429).length, storm, "the storm happened");
    assert.equal(report.totals.throttled, storm, "every 429 is counted, against the task that got it");
    assert.equal(report.tasks.reduce((sum, t) => sum + (t.throttled ?? 0), 0), storm);
    assert.match(readFileSync(join(results, "report.md"), "utf8"), new RegExp(`throttled ${storm} request`));
  });
});
