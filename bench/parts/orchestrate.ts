// Orchestration benchmark: 8 tasks with max_parallel 4 through agentiso, against the same 8
// opencode runs on the host one after another and 4 at a time, all against the stub model in
// the same run (the 4-at-a-time round before and after agentiso's, as machine load drifts); and
// agentiso's overhead per task (fork + setup + collect + destroy), also broken down by phase.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
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

interface HostRuns {
  sequentialMs: number;
  /** The 4-at-a-time round, run once before and once after agentiso's (machine load drifts). */
  fourAtATimeMs: number[];
  /** Each run's own duration in the 4-at-a-time rounds. */
  runMs: number[];
}

function hostRunner(dir: string, stubUrl: string): (name: string) => Promise<number> {
  const config = buildOpencodeConfig({ provider: { kind: "openai-compatible", baseUrl: stubUrl, model: "stub-model" }, key: { mode: "keyless" } });
  return async (name: string) => {
    const repo = join(dir, `host-${name}-${Math.random().toString(36).slice(2)}`);
    await makeRepo(repo);
    const run = await runOpencodeOnHost({ cwd: repo, prompt: `TASK-${name}: do your part.`, config, timeoutMs: 300_000, binary: HOST_OPENCODE_BIN });
    if (run.result.status !== "succeeded") throw new Error(`host run ${name}: ${run.result.reason}`);
    return run.result.durationMs ?? 0;
  };
}

// The same 8 opencode runs straight on the host, 4 at a time: the wall time and each run's time.
async function fourAtATime(hostRun: (name: string) => Promise<number>): Promise<{ wallMs: number; runMs: number[] }> {
  const started = performance.now();
  const queue = [...TASKS];
  const runMs: number[] = [];
  await Promise.all(Array.from({ length: 4 }, async () => { for (let t = queue.shift(); t; t = queue.shift()) runMs.push(await hostRun(t)); }));
  return { wallMs: performance.now() - started, runMs };
}

// `agentiso orchestrate` of the 8 tasks with max_parallel 4 on a daemon of its own.
async function measureAgentiso(dir: string, stubUrl: string): Promise<{ wallMs: number; report: WrittenReport }> {
  const repo = join(dir, "repo");
  await makeRepo(repo);
  writeFileSync(join(dir, "plan.toml"), stubPlanToml({ repo, stubUrl, tasks: TASKS, keyEnv: "BENCH_KEY", maxParallel: 4 }));
  await using rig = await startDaemonRig({ BENCH_KEY: "bench" });
  const started = performance.now();
  const run = await rig.cli(["orchestrate", join(dir, "plan.toml"), "--results", join(dir, "results")]);
  const wallMs = performance.now() - started;
  if (run.code !== 0) throw new Error(`orchestrate failed: ${run.stderr}`);
  return { wallMs, report: JSON.parse(readFileSync(join(dir, "results", "report.json"), "utf8")) as WrittenReport };
}

function printResults(report: (line: string) => void, host: HostRuns, agentiso: { wallMs: number; report: WrittenReport }): void {
  const { tasks, stagesMs } = agentiso.report;
  const hostMean = mean(host.runMs);
  const overhead = mean(tasks.map((t) => t.durationMs)) - hostMean;
  const phase = (name: keyof Phases) => mean(tasks.map((t) => t.phasesMs?.[name] ?? 0));
  const onPath = phase("waited") + phase("collect");
  const pct = (value: number) => `${((value / hostMean) * 100).toFixed(1)}%`;
  report(`host, one after another:   ${ms(host.sequentialMs)}`);
  const host4 = mean(host.fourAtATimeMs);
  report(`host, 4 at a time:         ${ms(host4)} (mean of a round before agentiso's, ${ms(host.fourAtATimeMs[0]!)}, and one after, ${ms(host.fourAtATimeMs[1]!)})`);
  report(`agentiso, max_parallel 4:  ${ms(agentiso.wallMs)} (${ratio(agentiso.wallMs, host.sequentialMs)} of sequential, ${ratio(agentiso.wallMs, host4)} of host 4-at-a-time; includes building the golden)`);
  if (stagesMs) report(`agentiso, the 8 tasks:     ${ms(stagesMs.tasks)} (${ratio(stagesMs.tasks, host4)} of host 4-at-a-time; the golden was built in ${ms(stagesMs.golden)} before)`);
  report(`overhead per task (fork + setup + collect + destroy): ${ms(overhead)} = ${pct(overhead)} of a host run at 4 at a time (${ms(hostMean)})   goal < 10%`);
  report(`  (a task's time from its turn to its results minus a host run: includes opencode being slower in a worker, and any change of machine load between the two)`);
  report(`  per task, mean: fork ${ms(phase("fork"))} + setup ${ms(phase("setup"))}, of which its turn waited ${ms(phase("waited"))}; opencode ${ms(phase("run"))}; collect ${ms(phase("collect"))}; destroy ${ms(phase("destroy"))} (after the result, in the background)`);
  report(`  on the critical path by phase (waited + collect): ${ms(onPath)} = ${pct(onPath)}; all four phases' work: ${ms(phase("fork") + phase("setup") + phase("collect") + phase("destroy"))}`);
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
      const hostRun = hostRunner(dir, stub.url);
      const load = [loadavg()[0]!];
      const started = performance.now();
      for (const name of TASKS) await hostRun(name);
      const sequentialMs = performance.now() - started;
      const before = await fourAtATime(hostRun);
      const agentiso = await measureAgentiso(dir, stub.url);
      const after = await fourAtATime(hostRun);
      load.push(loadavg()[0]!);
      printResults(report, { sequentialMs, fourAtATimeMs: [before.wallMs, after.wallMs], runMs: [...before.runMs, ...after.runMs] }, agentiso);
      report(`  (load average ${load.map((l) => l.toFixed(1)).join(" → ")} on ${availableParallelism()} cores: other work on the machine shifts every number above)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

type Phases = Record<"fork" | "setup" | "waited" | "run" | "collect" | "destroy", number>;

interface WrittenReport {
  stagesMs?: { golden: number; tasks: number };
  tasks: Array<{ durationMs: number; phasesMs?: Phases }>;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export default part;
