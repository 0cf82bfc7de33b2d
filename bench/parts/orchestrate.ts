// Orchestration benchmark: 8 tasks with max_parallel 4 through agentiso, against the same 8
// opencode runs on the host one after another and 4 at a time, all against the stub model in
// the same run; and agentiso's overhead per task (fork + setup + collect + destroy).
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchPart } from "../index.js";
import { ms, ratio } from "../stats.js";
import { startDaemonRig } from "../daemon-rig.js";
import { runCommand } from "../../src/core/run-command.js";
import { startStubServer } from "../../src/llm/stub-server.js";
import type { StubScriptInput } from "../../src/llm/stub-script.js";
import { buildOpencodeConfig } from "../../src/orchestrator/opencode/opencode-config.js";
import { runOpencodeOnHost } from "../../src/orchestrator/opencode/run-on-host.js";
import { HOST_OPENCODE_BIN } from "../../test/support/base-image.js";
import { stubPlanToml } from "../../test/support/orchestrate-fixture.js";

const TASKS = Array.from({ length: 8 }, (_, i) => `task-${i + 1}`);

const SCRIPT: StubScriptInput = {
  rules: TASKS.map((name) => ({
    match: { firstUserMessageContains: `TASK-${name}` },
    steps: [{ toolCalls: [{ name: "write", arguments: { filePath: `{{workdir}}/${name}.txt`, content: `${name}\n` } }] }, { text: "done" }],
  })),
};

async function makeRepo(dir: string): Promise<void> {
  await runCommand(["git", "init", "-q", dir]);
  writeFileSync(join(dir, "README.md"), "bench\n");
  await runCommand(["git", "-C", dir, "add", "."]);
  await runCommand(["git", "-C", dir, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init"]);
}

const part: BenchPart = {
  name: "orchestration (8 tasks, real opencode, stub model)",
  async unavailable() {
    return process.getuid?.() === 0 ? undefined : "needs root";
  },
  async run(report) {
    const dir = mkdtempSync("/tmp/ais-bench-orch-");
    await using stub = await startStubServer({ script: SCRIPT });
    try {
      const config = buildOpencodeConfig({ provider: { kind: "openai-compatible", baseUrl: stub.url, model: "stub-model" }, key: { mode: "keyless" } });
      const hostRun = async (name: string) => {
        const repo = join(dir, `host-${name}-${Math.random().toString(36).slice(2)}`);
        await makeRepo(repo);
        const run = await runOpencodeOnHost({ cwd: repo, prompt: `TASK-${name}: do your part.`, config, timeoutMs: 300_000, binary: HOST_OPENCODE_BIN });
        if (run.result.status !== "succeeded") throw new Error(`host run ${name}: ${run.result.reason}`);
        return run.result.durationMs ?? 0;
      };
      let started = performance.now();
      for (const name of TASKS) await hostRun(name);
      const sequential = performance.now() - started;
      started = performance.now();
      const queue = [...TASKS];
      const hostTaskMs: number[] = [];
      await Promise.all(Array.from({ length: 4 }, async () => { for (let t = queue.shift(); t; t = queue.shift()) hostTaskMs.push(await hostRun(t)); }));
      const fourAtATime = performance.now() - started;

      const repo = join(dir, "repo");
      await makeRepo(repo);
      writeFileSync(join(dir, "plan.toml"), stubPlanToml({ repo, stubUrl: stub.url, tasks: TASKS, keyEnv: "BENCH_KEY", maxParallel: 4 }));
      await using rig = await startDaemonRig({ BENCH_KEY: "bench" });
      started = performance.now();
      const run = await rig.cli(["orchestrate", join(dir, "plan.toml"), "--results", join(dir, "results")]);
      const agentiso = performance.now() - started;
      if (run.code !== 0) throw new Error(`orchestrate failed: ${run.stderr}`);
      const tasks = (JSON.parse(readFileSync(join(dir, "results", "report.json"), "utf8")) as { tasks: Array<{ durationMs: number }> }).tasks;
      const hostMean = mean(hostTaskMs);
      const overhead = mean(tasks.map((t) => t.durationMs)) - hostMean;

      report(`host, one after another:   ${ms(sequential)}`);
      report(`host, 4 at a time:         ${ms(fourAtATime)}`);
      report(`agentiso, max_parallel 4:  ${ms(agentiso)} (${ratio(agentiso, sequential)} of sequential, ${ratio(agentiso, fourAtATime)} of host 4-at-a-time; includes building the golden)`);
      report(`overhead per task (fork + setup + collect + destroy): ${ms(overhead)} = ${((overhead / hostMean) * 100).toFixed(1)}% of a host run at 4 at a time (${ms(hostMean)})   goal < 10%`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export default part;
