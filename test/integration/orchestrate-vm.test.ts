// `agentiso orchestrate` with `runtime = "vm"`: the golden workspace and its workers are QEMU
// microVMs under TCG; the real opencode inside reaches the scripted stub model on the host's
// loopback only through the agent's tunnel to the keyless proxy (a VM has no network device).
// Fewer tasks than the container test: everything is emulated. The golden's snapshot holds its
// memory, so the workers resume it (about a second each) instead of booting.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { editTask, orchestrateFixture, stubPlanToml } from "../support/orchestrate-fixture.js";

const skip = requires(isRoot(), hasCommand("qemu-system-x86_64"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));

interface Report {
  tasks: Array<{ name: string; status: string; reason: string; workerState?: string; filesChanged: string[]; patch: string; toolCalls: unknown[]; phasesMs?: { fork: number } }>;
  stagesMs?: { golden: number; tasks: number; merge: number };
  totals: { tokens: { input: number; output: number } };
  merge: Array<{ task: string; branch: string; ok: boolean }>;
}

describe("agentiso orchestrate on the vm runtime", { skip, timeout: 1_800_000 }, () => {
  test("2 VM workers edit 2 files through opencode's tools, tokens are metered, workers are destroyed, branches merge", async (t) => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture({
      usage: { promptTokens: 100, completionTokens: 20 },
      rules: [editTask("edit-a", "a.txt"), editTask("edit-b", "b.txt")],
      default: { text: "nothing to do" },
    });
    const plan = fixture.plan(
      stubPlanToml({
        repo: fixture.repo,
        stubUrl: fixture.stub.url,
        tasks: ["edit-a", "edit-b"],
        keyEnv: "AGENTISO_TEST_KEY",
        golden: 'runtime = "vm"\nsetup = ["echo built > BUILD-OUTPUT.txt"]',
        timeout: "12m",
        run: 'merge = "branch-per-task"',
      }),
    );
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-test-orchestrate-vm", AGENTISO_VM_ACCEL: "tcg" });
    const results = join(fixture.dir, "results");
    const run = await cli.run(["orchestrate", plan, "--results", results], { timeoutMs: 1_500_000 });
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
    t.diagnostic(`stages ${JSON.stringify(report.stagesMs)}; workers forked (to a running agent) in ${report.tasks.map((w) => `${w.name} ${Math.round(w.phasesMs?.fork ?? -1)} ms`).join(", ")}`);
    assert.equal(run.code, 0, `${run.stderr}\n${JSON.stringify(report.tasks.map((t) => ({ name: t.name, reason: t.reason, toolCalls: t.toolCalls })), null, 1)}`);
    for (const [task, file] of [["edit-a", "a.txt"], ["edit-b", "b.txt"]] as const) {
      const result = report.tasks.find((t) => t.name === task)!;
      assert.equal(result.status, "succeeded", `${task}: ${result.reason}`);
      assert.deepEqual(result.filesChanged, [file]);
      assert.match(result.patch, new RegExp(`\\+${file}: ONE by ${task}`));
    }
    const usage = fixture.stub.usageTotals();
    assert.equal(report.totals.tokens.input, usage.promptTokens);
    assert.equal(report.totals.tokens.output, usage.completionTokens);
    assert.ok(fixture.stub.requests.every((r) => r.headers.authorization === "Bearer sk-test-orchestrate-vm"), "the proxy sent the real key upstream");
    assert.deepEqual(report.tasks.map((t) => t.workerState), ["destroyed", "destroyed"]);
    assert.deepEqual(await cli.json(["ws", "ls"]), [], "workers and the golden workspace are destroyed");
    assert.deepEqual(report.merge.map((m) => [m.task, m.ok]).sort(), [["edit-a", true], ["edit-b", true]]);
    // the golden's snapshot held its memory and the workers resumed it instead of booting
    const log = readFileSync(join(cli.home, "daemon.log"), "utf8");
    assert.match(log, /"msg":"memory snapshot saved"/);
    assert.doesNotMatch(log, /"msg":"memory snapshot not resumed/);
    assert.equal((log.match(/"msg":"workspace vm started".*"fromTemplate":true/g) ?? []).length >= 3, true, "the golden (from a template) and both workers resumed saved machines");
  });
});
