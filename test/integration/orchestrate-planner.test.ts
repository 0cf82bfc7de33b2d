// `agentiso orchestrate "TASK" --repo ...`: the planner (the real opencode in a fork of the
// golden, the stub model scripted to answer the planning prompt) writes plan.toml; --plan-only
// stops there and the plan then runs unchanged; a planner that answers nonsense twice fails
// naming its raw answer's file, and no worker is forked.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { editTask, orchestrateFixture } from "../support/orchestrate-fixture.js";
import { loadPlanFile } from "../../src/orchestrator/plan.js";
import { PLANNER_MARKER } from "../../src/orchestrator/planner-prompt.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));

const PLANNED = [
  { name: "add-one", prompt: "TASK-add-one: add one thing to a.txt", files: ["a.txt"] },
  { name: "add-two", prompt: "TASK-add-two: add one thing to b.txt", files: ["b.txt"] },
  { name: "add-three", prompt: "TASK-add-three: add one thing to c.txt", files: ["c.txt"] },
];

interface Report {
  tasks: Array<{ name: string; status: string; reason: string }>;
  totals: { tokens: { input: number; output: number } };
  planner?: { planOnly: boolean; attempts: number; tasks: string[]; planPath: string; tokens: { input: number; output: number } };
}

describe("agentiso orchestrate with the planner", { skip, timeout: 1_200_000 }, () => {
  test("one sentence → plan.toml with 3 tasks (--plan-only forks no worker) → the plan runs unchanged in 3 workers; nonsense twice fails naming the raw answer", async () => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture({
      usage: { promptTokens: 100, completionTokens: 20 },
      rules: [
        { name: "planner-nonsense", match: { firstUserMessageContains: "NONSENSE" }, steps: [{ text: "I would rather not plan anything today." }] },
        { name: "planner", match: { firstUserMessageContains: PLANNER_MARKER }, steps: [{ text: "Read the repo.\n```json\n" + JSON.stringify(PLANNED) + "\n```" }] },
        editTask("add-one", "a.txt"),
        editTask("add-two", "b.txt"),
        editTask("add-three", "c.txt"),
      ],
      default: { text: "nothing to do" },
    });
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-test-planner" });
    const model = ["--network", "none", "--provider", "openai-compatible", "--base-url", fixture.stub.url, "--api-key-env", "AGENTISO_TEST_KEY"];
    const workerPrompts = () => fixture.stub.requests.filter((r) => r.rule !== undefined && r.rule.startsWith("add-"));

    const planned = join(fixture.dir, "planned");
    const planOnly = await cli.run(["orchestrate", "add three things", "--repo", fixture.repo, "--tasks", "3", "--plan-only", "--results", planned, ...model], { timeoutMs: 600_000 });
    assert.equal(planOnly.code, 0, planOnly.stderr);
    const planPath = join(planned, "plan.toml");
    assert.match(planOnly.stdout, new RegExp(`plan: ${planPath}.*\\n.*agentiso orchestrate ${planPath}`));
    const plan = await loadPlanFile(planPath);
    assert.deepEqual(plan.task.map((t) => [t.name, t.prompt, t.files]), PLANNED.map((t) => [t.name, t.prompt, t.files]));
    const planReport = JSON.parse(readFileSync(join(planned, "report.json"), "utf8")) as Report;
    assert.deepEqual(planReport.tasks, [], "plan-only runs no task");
    assert.equal(planReport.planner?.planOnly, true);
    assert.equal(planReport.planner?.attempts, 1);
    assert.equal(planReport.planner?.tokens.input, fixture.stub.usageTotals().promptTokens, "the planner's tokens are what the stub billed");
    assert.equal(planReport.totals.tokens.input, planReport.planner?.tokens.input, "and they are in the totals");
    assert.equal(workerPrompts().length, 0, "no worker ran");
    assert.deepEqual(await cli.json(["ws", "ls"]), [], "the planner's fork and the golden are destroyed");

    const results = join(fixture.dir, "results");
    const run = await cli.run(["orchestrate", planPath, "--results", results], { timeoutMs: 900_000 });
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
    assert.deepEqual(report.tasks.map((t) => [t.name, t.status]), PLANNED.map((t) => [t.name, "succeeded"]), JSON.stringify(report.tasks.map((t) => t.reason)));
    assert.equal(report.planner, undefined, "a plan file has no planner");
    assert.deepEqual(await cli.json(["ws", "ls"]), []);

    const before = fixture.stub.requests.length;
    const workersBefore = workerPrompts().length;
    const failed = join(fixture.dir, "nonsense");
    const nonsense = await cli.run(["orchestrate", "NONSENSE: plan this", "--repo", fixture.repo, "--results", failed, ...model], { timeoutMs: 600_000 });
    assert.equal(nonsense.code, 8, `BACKEND_FAILED: ${nonsense.stderr}`);
    const answerFile = join(failed, "planner-answer-2.txt");
    assert.match(nonsense.stderr, new RegExp(`did not answer with a valid list of subtasks in 2 attempts .*raw answer is in ${answerFile}.*no worker was forked`));
    assert.equal(readFileSync(answerFile, "utf8"), "I would rather not plan anything today.");
    assert.ok(existsSync(join(failed, "planner-answer-1.txt")));
    const planning = fixture.stub.requests.slice(before).filter((r) => r.rule === "planner-nonsense");
    assert.equal(planning.length, 2, "two planning runs: the answer, then the retry with the reason");
    assert.ok(JSON.stringify(planning[1]!.body).includes("no JSON list"), "the retry tells the model why its answer was refused");
    assert.equal(workerPrompts().length, workersBefore, "no worker forked");
    assert.ok(!existsSync(join(failed, "plan.toml")));
    assert.deepEqual(await cli.json(["ws", "ls"]), []);
  });
});
