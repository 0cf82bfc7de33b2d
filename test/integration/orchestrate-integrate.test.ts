// merge = "integrate" with the real opencode and the scripted stub in real workers: two tasks
// edit the same line of a.txt (a scripted conflict) and each records its edit in done-<task>;
// verify checks that a.txt has no conflict marker and holds every recorded edit. With
// resolve = "agent" the resolver (scripted: it writes a.txt with both edits) fixes the conflict,
// agentiso/<run>/integrated lands in the host repository, verify passes in a checkout of it
// there, and the reviewer's answer is review.md. With resolve = "skip" the second patch is
// reported as skipped and the branch holds the first alone.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import type { StubScriptInput } from "../../src/llm/stub-script.js";
import { RESOLVER_MARKER } from "../../src/orchestrator/resolver-prompt.js";
import { REVIEW_MARKER } from "../../src/orchestrator/review.js";
import { ensureImage } from "../support/base-image.js";
import { CliHarness } from "../support/cli-harness.js";
import { orchestrateFixture, stubPlanToml, type OrchestrateFixture } from "../support/orchestrate-fixture.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("git"));
const VERIFY = `! grep -q "^<<<<<<<" a.txt && for f in done-*; do grep -qF "$(cat "$f")" a.txt || { echo "a.txt misses $(cat "$f")"; exit 1; }; done`;
const REVIEW = "## Summary\nBoth edits of a.txt are kept.\n\n## Risks\nNone.\n\n## Follow-ups\nNone.\n\nVERDICT: approve";

/** Task <name>: "one" → "ONE by <name>" in a.txt, and done-<name> says so. */
function sameLineTask(name: string): NonNullable<StubScriptInput["rules"]>[number] {
  return {
    name,
    match: { firstUserMessageContains: `TASK-${name}` },
    steps: [
      { toolCalls: [{ name: "edit", arguments: { filePath: "{{workdir}}/a.txt", oldString: "one", newString: `ONE by ${name}` } }] },
      { toolCalls: [{ name: "write", arguments: { filePath: `{{workdir}}/done-${name}`, content: `ONE by ${name}` } }] },
      { text: `Edited a.txt as ${name}.` },
    ],
  };
}

// The resolver and reviewer rules come first: their prompts quote the tasks' prompts.
const SCRIPT: StubScriptInput = {
  rules: [
    {
      name: "resolver",
      match: { firstUserMessageContains: RESOLVER_MARKER },
      steps: [{ toolCalls: [{ name: "write", arguments: { filePath: "{{workdir}}/a.txt", content: "a.txt: ONE by left, ONE by right\n" } }] }, { text: "Kept both edits of a.txt on one line." }],
    },
    { name: "reviewer", match: { firstUserMessageContains: REVIEW_MARKER }, steps: [{ text: REVIEW }] },
    sameLineTask("left"),
    sameLineTask("right"),
  ],
  default: { text: "nothing to do" },
};

interface Report {
  id: string;
  tasks: Array<{ name: string; status: string; reason: string }>;
  integration: {
    branch: string;
    repository: string;
    order: string[];
    steps: Array<{ task: string; outcome: string; problem?: { kind: string; detail: string }; resolver?: { status: string; summary: string; filesChanged: string[]; unresolved?: string } }>;
    verify: { passed: boolean; commands: number; detail?: string };
    landed: boolean;
    commit?: string;
    error?: string;
    workspaceState: string;
  };
  review?: { file: string; verdict: string; gate: boolean };
}

async function runPlan(fixture: OrchestrateFixture, run: string, extra = ""): Promise<{ report: Report; results: string }> {
  const toml = stubPlanToml({ repo: fixture.repo, stubUrl: fixture.stub.url, tasks: ["left", "right"], keyEnv: "AGENTISO_TEST_KEY", maxParallel: 2, run: `merge = "integrate"\nverify = ['${VERIFY}']\n${run}` });
  const plan = fixture.plan(`${toml}\n${extra}`);
  await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-test-integrate" });
  const results = mkdtempSync(join(fixture.dir, "results-"));
  const out = await cli.run(["orchestrate", plan, "--results", results], { timeoutMs: 900_000 });
  const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
  assert.equal(out.code, 0, `${out.stderr}\n${JSON.stringify(report.tasks, null, 1).slice(0, 3000)}`);
  assert.deepEqual(report.integration.order, ["left", "right"]);
  assert.equal(report.integration.landed, true, report.integration.error);
  assert.equal(report.integration.workspaceState, "destroyed");
  const leftover = await cli.run(["workspace", "list", "--json"]);
  assert.doesNotMatch(leftover.stdout, /integration/, "the integration workspace is gone");
  return { report, results };
}

// Checks the branch out on the host (hooks off) and runs the verify command there.
async function verifyOnHost(repo: string, branch: string): Promise<{ code: number | null; aTxt: string }> {
  const checkout = mkdtempSync("/tmp/ais-integrated-");
  try {
    await runCommand(["git", "-C", repo, "-c", "core.hooksPath=/dev/null", "worktree", "add", "--quiet", "--detach", checkout, branch]);
    const verified = await runCommand(["sh", "-c", VERIFY], { cwd: checkout, check: false });
    return { code: verified.exitCode, aTxt: readFileSync(join(checkout, "a.txt"), "utf8") };
  } finally {
    await runCommand(["git", "-C", repo, "worktree", "remove", "--force", checkout], { check: false });
    rmSync(checkout, { recursive: true, force: true });
  }
}

describe('merge = "integrate"', { skip, timeout: 1_800_000 }, () => {
  test('resolve = "agent": the resolver fixes the scripted conflict, the integrated branch lands in the host repo and passes verify there, review.md is written', async () => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture(SCRIPT);
    const { report, results } = await runPlan(fixture, 'resolve = "agent"', "[review]\n");
    const [left, right] = report.integration.steps;
    assert.deepEqual([left?.task, left?.outcome], ["left", "applied"]);
    assert.deepEqual([right?.task, right?.outcome, right?.problem?.kind], ["right", "resolved", "conflict"]);
    assert.match(right!.problem!.detail, /a\.txt/);
    assert.equal(right!.resolver?.unresolved, undefined);
    assert.equal(right!.resolver?.summary, "Kept both edits of a.txt on one line.");
    assert.deepEqual([...right!.resolver!.filesChanged].sort(), ["a.txt", "done-right"]);
    assert.deepEqual(report.integration.verify, { passed: true, commands: 1 });

    assert.equal(report.integration.branch, `agentiso/${report.id}/integrated`);
    assert.equal(report.integration.repository, fixture.repo);
    const log = await fixture.git("-c", "core.hooksPath=/dev/null", "log", "--format=%s", report.integration.branch);
    assert.deepEqual(log.trim().split("\n"), ["agentiso: right (conflict resolved by the resolver agent)", "agentiso: left", "initial"]);
    const onHost = await verifyOnHost(fixture.repo, report.integration.branch);
    assert.equal(onHost.code, 0, "the verify command passes in a checkout of the integrated branch");
    assert.equal(onHost.aTxt, "a.txt: ONE by left, ONE by right\n");

    assert.deepEqual(report.review, { ...report.review, file: "review.md", verdict: "approve", gate: false });
    assert.equal(readFileSync(join(results, "review.md"), "utf8"), `${REVIEW}\n`);
    const md = readFileSync(join(results, "report.md"), "utf8");
    assert.match(md, /## Integration/);
    assert.match(md, /\| right \| resolved \| conflict: /);
    assert.match(md, /\[review\.md\]\(review\.md\): verdict \*\*approve\*\*/);
    const resolverRequests = fixture.stub.requests.filter((r) => r.rule === "resolver");
    assert.ok(resolverRequests.length >= 2, "the resolver ran in opencode through the proxy");
    const resolverPrompt = JSON.stringify(resolverRequests[0]!.body);
    assert.ok(resolverPrompt.includes("TASK-left") && resolverPrompt.includes("TASK-right"), "the resolver heard both tasks' prompts");
  });

  test('resolve = "skip": the conflicting patch is reverted and reported as skipped; the branch holds the first task alone', async () => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture(SCRIPT);
    const { report, results } = await runPlan(fixture, 'resolve = "skip"');
    assert.deepEqual(report.integration.steps.map((s) => [s.task, s.outcome, s.problem?.kind]), [["left", "applied", undefined], ["right", "skipped", "conflict"]]);
    assert.equal(report.integration.steps[1]!.resolver, undefined);
    assert.deepEqual(report.integration.verify, { passed: true, commands: 1 });
    assert.equal(fixture.stub.requests.filter((r) => r.rule === "resolver").length, 0, "no resolver ran");
    assert.equal(report.review, undefined);
    assert.equal(existsSync(join(results, "review.md")), false);
    assert.match(readFileSync(join(results, "report.md"), "utf8"), /\| right \| skipped \| conflict: /);
    const onHost = await verifyOnHost(fixture.repo, report.integration.branch);
    assert.equal(onHost.code, 0);
    assert.equal(onHost.aTxt, "a.txt: ONE by left\n");
  });
});
