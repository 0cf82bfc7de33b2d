// Faults during an orchestration: opencode killed, a worker killed, the daemon killed. The hit
// task ends with status error and a reason, the others finish, and nothing keeps running.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, CliHarness, leftoversOf } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { editTask, orchestrateFixture, stubPlanToml } from "../support/orchestrate-fixture.js";
import { waitForOpencode } from "../support/orchestrate-watch.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));

interface Report {
  tasks: Array<{ name: string; status: string; reason: string }>;
}

// A task whose first model answer takes long enough for the test to strike.
function slowTask(name: string) {
  return { name, match: { firstUserMessageContains: `TASK-${name}` }, steps: [{ delayMs: 60_000, text: "too late" }] };
}

function planFor(repo: string, stubUrl: string, tasks: string[]): string {
  return stubPlanToml({ repo, stubUrl, tasks, keyEnv: "AGENTISO_TEST_KEY" });
}

function runOrchestrate(cli: CliHarness, plan: string, results: string) {
  const child = spawn(process.execPath, [CLI, "orchestrate", plan, "--results", results], { env: cli.env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stderr })));
  return Object.assign(done, { interrupt: () => child.kill("SIGINT") });
}

describe("orchestration faults", { skip, timeout: 1_200_000 }, () => {
  test("killing opencode or a worker fails only that task, with a reason; the others finish; nothing is left", async () => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture({ rules: [slowTask("kill-opencode"), slowTask("kill-worker"), editTask("survivor", "a.txt")] });
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-faults" });
    const results = join(fixture.dir, "results");
    const done = runOrchestrate(cli, fixture.plan(planFor(fixture.repo, fixture.stub.url, ["kill-opencode", "kill-worker", "survivor"])), results);

    const opencodeWorker = await waitForOpencode(cli, "kill-opencode", done);
    await cli.ok(["ws", "exec", opencodeWorker.name, "--", "pkill", "-KILL", "-x", "opencode"]);
    const worker = await waitForOpencode(cli, "kill-worker", done);
    const info = await cli.json<{ pid: number }>(["ws", "info", worker.name]);
    process.kill(info.pid, "SIGKILL");

    const { code, stderr } = await done;
    assert.equal(code, 1, stderr);
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
    const status = Object.fromEntries(report.tasks.map((t) => [t.name, t]));
    assert.equal(status["survivor"]!.status, "succeeded", status["survivor"]!.reason);
    assert.equal(status["kill-opencode"]!.status, "error");
    assert.match(status["kill-opencode"]!.reason, /killed/);
    assert.equal(status["kill-worker"]!.status, "error");
    assert.ok(status["kill-worker"]!.reason.length > 0);
    assert.deepEqual(await cli.json(["ws", "ls"]), []);
    // The pool stays mounted until teardown; nothing else of the run may remain.
    assert.deepEqual(leftoversOf(cli.home).filter((l) => /^(cgroup|netns|process)/.test(l)), []);
  });

  test("Ctrl-C stops the agents, destroys the workers and the golden, and writes a partial report", async () => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture({ rules: [slowTask("slow-1")] });
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-faults" });
    const results = join(fixture.dir, "results");
    const done = runOrchestrate(cli, fixture.plan(planFor(fixture.repo, fixture.stub.url, ["slow-1"])), results);
    await waitForOpencode(cli, "slow-1", done);
    done.interrupt();
    const { code, stderr } = await done;
    assert.equal(code, 130, stderr);
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report & { cancelled: boolean };
    assert.equal(report.cancelled, true);
    assert.deepEqual(report.tasks.map((t) => [t.name, t.status]), [["slow-1", "error"]]);
    assert.deepEqual(await cli.json(["ws", "ls"]), []);
  });

  test("killing the daemon mid-run gives the running tasks status error and leaves nothing running", async () => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture({ rules: [slowTask("slow-1"), slowTask("slow-2")] });
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-faults" });
    const results = join(fixture.dir, "results");
    const done = runOrchestrate(cli, fixture.plan(planFor(fixture.repo, fixture.stub.url, ["slow-1", "slow-2"])), results);
    await waitForOpencode(cli, "slow-1", done);
    await waitForOpencode(cli, "slow-2", done);
    process.kill(cli.daemonPid()!, "SIGKILL");

    const { code, stderr } = await done;
    assert.equal(code, 1, stderr);
    assert.match(stderr, /partial report/);
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
    for (const task of report.tasks) {
      assert.equal(task.status, "error", task.name);
      assert.match(task.reason, /daemon/i);
    }
    assert.deepEqual(await cli.json(["ws", "ls"]), [], "workers and golden destroyed by the CLI through a new daemon");
  });
});
