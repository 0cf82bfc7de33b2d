// A worker's patch never runs on the host. The repository is husky-style (core.hooksPath =
// .husky, hooks tracked in the repo, each writing a marker on the host) with a filter driver and
// an fsmonitor configured; the task's model (the scripted stub) makes opencode rewrite the
// pre-commit hook and add a .gitattributes selecting the filter. With merge = "branch-per-task"
// the branch lands with the worker's changes, and no hook, filter or fsmonitor ran: the marker
// directory stays empty. Once from the CLI (the host's root, any repo) and once from an MCP
// session whose repo and stub script lie in its own transfer directory.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sessionTransferDir } from "../../src/core/host-paths.js";
import { runCommand } from "../../src/core/run-command.js";
import type { StubScriptInput } from "../../src/llm/stub-script.js";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { orchestrateFixture, stubPlanToml } from "../support/orchestrate-fixture.js";
import { stdioClient } from "./mcp-clients.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("git"));
const HOOKS = ["pre-commit", "commit-msg", "post-commit", "post-checkout", "reference-transaction", "post-index-change", "pre-auto-gc"];

interface Report {
  tasks: Array<{ name: string; status: string; reason: string; filesChanged: string[] }>;
  merge: Array<{ task: string; branch: string; ok: boolean; error?: string; commit?: string }>;
}

// Makes repo husky-style; every hook, the filter and the fsmonitor write a marker into markers.
async function huskify(repo: string, markers: string): Promise<void> {
  const git = (...args: string[]) => runCommand(["git", "-C", repo, "-c", "user.email=t@agentiso", "-c", "user.name=t", "-c", "core.hooksPath=/dev/null", ...args]);
  mkdirSync(join(repo, ".husky"), { recursive: true });
  for (const hook of HOOKS) {
    writeFileSync(join(repo, ".husky", hook), `#!/bin/sh\ntouch ${markers}/ORIGINAL-${hook}\nexit 0\n`);
    chmodSync(join(repo, ".husky", hook), 0o755);
  }
  await git("add", ".husky");
  await git("commit", "-qm", "husky hooks");
  await git("config", "core.hooksPath", ".husky");
  await git("config", "filter.evil.clean", `touch ${markers}/FILTER-clean; cat`);
  await git("config", "filter.evil.smudge", `touch ${markers}/FILTER-smudge; cat`);
  await git("config", "core.fsmonitor", `touch ${markers}/FSMONITOR; false`);
}

// The worker's model: rewrite the pre-commit hook to plant a marker, select the filter for every
// file, and do the task's real edit.
function hookEditScript(task: string, markers: string, match: string): StubScriptInput {
  return {
    rules: [
      {
        name: task,
        match: { firstUserMessageContains: match },
        steps: [
          { toolCalls: [{ name: "edit", arguments: { filePath: "{{workdir}}/.husky/pre-commit", oldString: "exit 0", newString: `touch ${markers}/PLANTED-pre-commit; exit 0` } }] },
          { toolCalls: [{ name: "write", arguments: { filePath: "{{workdir}}/.gitattributes", content: "* filter=evil\n" } }] },
          { toolCalls: [{ name: "edit", arguments: { filePath: "{{workdir}}/a.txt", oldString: "one", newString: `ONE by ${task}` } }] },
          { text: "Edited the hook and a.txt." },
        ],
      },
    ],
    default: { text: "nothing to do" },
  };
}

async function assertBranchLanded(repo: string, report: Report, task: string): Promise<void> {
  const result = report.tasks.find((t) => t.name === task)!;
  assert.equal(result.status, "succeeded", result.reason);
  assert.deepEqual([...result.filesChanged].sort(), [".gitattributes", ".husky/pre-commit", "a.txt"]);
  const merge = report.merge.find((m) => m.task === task)!;
  assert.equal(merge.ok, true, merge.error);
  const show = async (path: string) => (await runCommand(["git", "-C", repo, "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "show", `${merge.branch}:${path}`])).stdout;
  assert.match(await show(".husky/pre-commit"), /PLANTED-pre-commit/, "the branch carries the worker's hook, as data");
  assert.equal(await show("a.txt"), `a.txt: ONE by ${task}\n`);
  assert.equal(await show(".gitattributes"), "* filter=evil\n");
}

describe("merge = branch-per-task runs nothing of the worker's on the host", { skip, timeout: 1_800_000 }, () => {
  test("from the CLI: a task edits the husky pre-commit hook; the branch lands and no hook, filter or fsmonitor runs", async () => {
    await ensureImage("opencode");
    const markers = mkdtempSync(join(tmpdir(), "seca-markers-"));
    try {
      await using fixture = await orchestrateFixture(hookEditScript("edit-hook", markers, "TASK-edit-hook"));
      await huskify(fixture.repo, markers);
      const plan = fixture.plan(stubPlanToml({ repo: fixture.repo, stubUrl: fixture.stub.url, tasks: ["edit-hook"], keyEnv: "AGENTISO_TEST_KEY", run: 'merge = "branch-per-task"' }));
      await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-test-hooks" });
      const results = join(fixture.dir, "results");
      const run = await cli.run(["orchestrate", plan, "--results", results], { timeoutMs: 900_000 });
      const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
      assert.equal(run.code, 0, `${run.stderr}\n${JSON.stringify(report.tasks, null, 1).slice(0, 3000)}`);
      await assertBranchLanded(fixture.repo, report, "edit-hook");
      assert.deepEqual(readdirSync(markers), [], "no hook (the user's or the worker's), filter driver or fsmonitor ran on the host");
    } finally {
      rmSync(markers, { recursive: true, force: true });
    }
  });

  test("from an MCP session: repo and stub script in its transfer directory; the branch lands there and nothing runs", async () => {
    await ensureImage("opencode");
    const markers = mkdtempSync(join(tmpdir(), "seca-markers-"));
    await using cli = new CliHarness();
    try {
      await cli.ok(["init", "--pool-size", "8G"]);
      await using mcp = await stdioClient(cli, "merger");
      const dir = sessionTransferDir(join(cli.home, "transfer"), "merger");
      mkdirSync(dir, { recursive: true });
      // The fixture's repo, moved into the session's directory.
      await using fixture = await orchestrateFixture({});
      const repo = join(dir, "repo");
      await runCommand(["cp", "-a", fixture.repo, repo]);
      await huskify(repo, markers);
      const prompt = "TASK-mcp-hook: do your part.";
      writeFileSync(join(dir, "script.json"), JSON.stringify(hookEditScript("mcp-hook", markers, "TASK-mcp-hook")));
      const { report } = await mcp.call<{ report: Report }>("orchestrate", {
        plan: {
          golden: { image: "opencode", repo: "repo", network: "none" },
          model: { provider: "stub", stub_script: "script.json" },
          run: { max_parallel: 1, timeout: "5m", merge: "branch-per-task" },
          task: [{ name: "mcp-hook", prompt }],
        },
        baseDir: ".",
        resultsDir: "results",
      });
      await assertBranchLanded(repo, report, "mcp-hook");
      assert.deepEqual(readdirSync(markers), [], "no hook, filter driver or fsmonitor ran on the host");
      assert.ok(readFileSync(join(dir, "results", "report.json"), "utf8").includes("mcp-hook"), "the report is in the session's directory");
    } finally {
      rmSync(markers, { recursive: true, force: true });
    }
  });
});
