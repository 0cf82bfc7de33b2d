// `agentiso orchestrate` end to end: the real opencode in runc workers forked from a golden
// workspace, a scripted stub model on the host's loopback reached only through the keyless
// proxy, patches, tokens, failures and branch-per-task merges.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { editTask, orchestrateFixture, taskToml } from "../support/orchestrate-fixture.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));

interface Report {
  tasks: Array<{ name: string; status: string; reason: string; workerState?: string; tokens: { input: number; output: number }; filesChanged: string[]; patch: string; toolCalls: unknown[] }>;
  totals: { tokens: { input: number; output: number }; succeeded: number; failed: number };
  merge: Array<{ task: string; branch: string; ok: boolean }>;
}

describe("agentiso orchestrate", { skip, timeout: 1_200_000 }, () => {
  test("3 workers edit 3 files through opencode's tools; a failing model and a rejected tool are reported; branches merge", async () => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture({
      usage: { promptTokens: 100, completionTokens: 20 },
      rules: [
        editTask("edit-a", "a.txt"),
        editTask("edit-b", "b.txt"),
        editTask("edit-c", "c.txt"),
        { name: "model-fails", match: { firstUserMessageContains: "TASK-model-fails" }, steps: [{ fail: { status: 400, message: "stub: this model call fails" } }] },
        {
          name: "rejected",
          match: { firstUserMessageContains: "TASK-rejected" },
          steps: [{ toolCalls: [{ name: "write", arguments: { filePath: "/etc/agentiso-escape.txt", content: "outside the workspace" } }] }, { text: "All done, wrote the file." }],
        },
      ],
      default: { text: "nothing to do" },
    });
    const plan = fixture.plan(`
[golden]
image = "opencode"
repo = "${fixture.repo}"
setup = ["mkdir -p node_modules && echo installed > node_modules/marker", "echo built > BUILD-OUTPUT.txt"]
network = "none"

[model]
provider = "openai-compatible"
base_url = "${fixture.stub.url}"
model = "stub-model"
api_key_env = "AGENTISO_TEST_KEY"

[run]
max_parallel = 3
timeout = "4m"
merge = "branch-per-task"

${taskToml("edit-a")}
${taskToml("edit-b")}
${taskToml("edit-c")}
${taskToml("model-fails")}
${taskToml("rejected")}
`);
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-test-orchestrate" });
    const results = join(fixture.dir, "results");
    const run = await cli.run(["orchestrate", plan, "--results", results], { timeoutMs: 900_000 });
    assert.equal(run.code, 1, `some tasks fail on purpose, so exit 1: ${run.stderr}`);
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
    const byName = Object.fromEntries(report.tasks.map((t) => [t.name, t]));

    for (const [task, file] of [["edit-a", "a.txt"], ["edit-b", "b.txt"], ["edit-c", "c.txt"]] as const) {
      const result = byName[task]!;
      assert.equal(result.status, "succeeded", `${task}: ${result.reason}`);
      assert.deepEqual(result.filesChanged, [file], `${task} changed only its file (setup output is not in the patch)`);
      assert.match(result.patch, new RegExp(`\\+${file}: ONE by ${task}`));
      assert.equal(readFileSync(join(results, `${task}.patch`), "utf8"), result.patch);
      assert.ok(existsSync(join(results, `${task}.events.ndjson`)));
    }
    assert.equal(byName["model-fails"]!.status, "failed");
    assert.match(byName["model-fails"]!.reason, /this model call fails|400/);
    assert.equal(byName["rejected"]!.status, "failed");
    assert.ok(byName["rejected"]!.reason.length > 0);

    const usage = fixture.stub.usageTotals();
    assert.equal(report.totals.tokens.input, usage.promptTokens, "input tokens equal what the stub billed");
    assert.equal(report.totals.tokens.output, usage.completionTokens, "output tokens equal what the stub billed");
    assert.ok(fixture.stub.requests.every((r) => r.headers.authorization === "Bearer sk-test-orchestrate"), "the proxy sent the real key upstream");

    assert.deepEqual(await cli.json(["ws", "ls"]), [], "workers and the golden workspace are destroyed");
    assert.deepEqual(report.tasks.map((t) => t.workerState), Array(5).fill("destroyed"), "the report says every worker was destroyed");
    assert.deepEqual(report.merge.map((m) => [m.task, m.ok]).sort(), [["edit-a", true], ["edit-b", true], ["edit-c", true]]);
    for (const merge of report.merge) {
      const file = { "edit-a": "a.txt", "edit-b": "b.txt", "edit-c": "c.txt" }[merge.task]!;
      assert.equal(await fixture.git("show", `${merge.branch}:${file}`), `${file}: ONE by ${merge.task}\n`);
      assert.equal((await fixture.git("diff", "--name-only", "HEAD", merge.branch)).trim(), file);
    }
  });
});
