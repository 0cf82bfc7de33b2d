// The demo's chain end to end, with the real opencode in real workers and the shipped stub
// model's demo script (the one scripts/demo.sh runs, src/orchestrator/demo-code-script.ts):
// one sentence → the planner yields 3 subtasks → 3 workers edit examples/demo-project's code →
// `node --test` passes for two at once and fails for divide, whose verify retry fixes it →
// `integrate` meets the conflict of multiply and divide on math.js, which the resolver fixes →
// agentiso/<run>/integrated lands in the host repo, where `node --test` passes in a checkout of
// it → review.md is written and linked from report.md.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { DEMO_REVIEW, DEMO_TASK } from "../../src/orchestrator/demo-code-script.js";
import { ensureImage } from "../support/base-image.js";
import { CliHarness } from "../support/cli-harness.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("git"));

interface Report {
  id: string;
  tasks: Array<{ name: string; status: string; reason: string; verify?: { passed: boolean; attempts: number; command?: string } }>;
  planner?: { attempts: number; tasks: string[] };
  integration?: {
    branch: string;
    repository: string;
    order: string[];
    steps: Array<{ task: string; outcome: string; problem?: { kind: string; detail: string }; resolver?: { status: string; filesChanged: string[]; unresolved?: string } }>;
    verify: { passed: boolean; commands: number };
    landed: boolean;
    error?: string;
  };
  review?: { file: string; verdict: string };
}

// A git repository made from examples/demo-project, as scripts/demo.sh makes it.
async function demoRepository(dir: string): Promise<string> {
  const repo = join(dir, "demo-project");
  cpSync("examples/demo-project", repo, { recursive: true });
  const git = (...args: string[]) => runCommand(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@agentiso", ...args]);
  await git("init", "-q");
  await git("add", ".");
  await git("commit", "-qm", "demo project");
  return repo;
}

// Checks the branch out on the host (hooks off) and runs the demo's verify command there.
async function nodeTestOnHost(repo: string, branch: string): Promise<{ code: number | null; output: string }> {
  const checkout = mkdtempSync("/tmp/ais-e2e-integrated-");
  try {
    await runCommand(["git", "-C", repo, "-c", "core.hooksPath=/dev/null", "worktree", "add", "--quiet", "--detach", checkout, branch]);
    const run = await runCommand(["node", "--test"], { cwd: checkout, check: false });
    return { code: run.exitCode, output: run.stdout + run.stderr };
  } finally {
    await runCommand(["git", "-C", repo, "worktree", "remove", "--force", checkout], { check: false });
    rmSync(checkout, { recursive: true, force: true });
  }
}

describe("the demo, end to end", { skip, timeout: 1_800_000 }, () => {
  test("one sentence → 3 planned tasks → verify passes for two, a retry fixes the third → integrate with a resolved conflict → the integrated branch passes node --test on the host → review.md", async () => {
    await ensureImage("opencode");
    const dir = mkdtempSync("/tmp/ais-e2e-");
    try {
      const repo = await demoRepository(dir);
      await using cli = new CliHarness();
      const results = join(dir, "results");
      const flags = ["--verify", "node --test", "--verify-retries", "1", "--merge", "integrate", "--resolve", "agent", "--review"];
      const out = await cli.run(["orchestrate", DEMO_TASK, "--repo", repo, "--tasks", "3", "--network", "none", ...flags, "--max-parallel", "3", "--results", results], { timeoutMs: 1_500_000 });
      const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
      assert.equal(out.code, 0, `${out.stderr}\n${JSON.stringify(report.tasks, null, 1).slice(0, 3000)}`);

      assert.deepEqual(report.planner?.tasks, ["multiply", "divide", "stats"]);
      assert.equal(report.planner?.attempts, 1);
      assert.deepEqual(report.tasks.map((t) => [t.name, t.status, t.verify?.passed, t.verify?.attempts]), [
        ["multiply", "succeeded", true, 1],
        ["divide", "succeeded", true, 2],
        ["stats", "succeeded", true, 1],
      ]);

      const integration = report.integration!;
      assert.deepEqual(integration.order, ["multiply", "divide", "stats"]);
      assert.deepEqual(integration.steps.map((s) => [s.task, s.outcome, s.problem?.kind]), [["multiply", "applied", undefined], ["divide", "resolved", "conflict"], ["stats", "applied", undefined]]);
      assert.match(integration.steps[1]!.problem!.detail, /math\.js/);
      assert.equal(integration.steps[1]!.resolver?.unresolved, undefined);
      assert.ok(integration.steps[1]!.resolver?.filesChanged.includes("math.js"));
      assert.deepEqual(integration.verify, { passed: true, commands: 1 });
      assert.equal(integration.landed, true, integration.error);
      assert.equal(integration.repository, repo);
      assert.equal(integration.branch, `agentiso/${report.id}/integrated`);

      const onHost = await nodeTestOnHost(repo, integration.branch);
      assert.equal(onHost.code, 0, onHost.output);
      assert.match(onHost.output, /# pass 6\n/, "add, multiply, divide (2) and stats (2) tests all ran");

      assert.deepEqual([report.review?.file, report.review?.verdict], ["review.md", "approve"]);
      assert.equal(readFileSync(join(results, "review.md"), "utf8"), `${DEMO_REVIEW}\n`);
      assert.match(readFileSync(join(results, "report.md"), "utf8"), /\[review\.md\]\(review\.md\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
