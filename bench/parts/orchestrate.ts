// Orchestration benchmark: 8 tasks with max_parallel 4, `[run] verify` and merge = "integrate"
// through agentiso, against the same 8 opencode runs on the host one after another and 4 at a
// time, all against the stub model in the same run (the 4-at-a-time round before and after
// agentiso's, as machine load drifts); agentiso's overhead per task (fork + setup + collect +
// destroy), also broken down by phase; and the whole run's orchestration overhead (wall −
// opencode − verify, as wall time: see run-timeline.ts) against the goal of < 10%.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import type { BenchPart } from "../index.js";
import { ms, ratio } from "../stats.js";
import { startDaemonRig } from "../daemon-rig.js";
import { runTimeline, type RunTimeline, type TimedLine, type WrittenReport } from "../run-timeline.js";
import { runCommand } from "../../src/core/run-command.js";
import { startStubServer } from "../../src/llm/stub-server.js";
import type { StubScriptInput } from "../../src/llm/stub-script.js";
import { buildOpencodeConfig } from "../../src/orchestrator/opencode/opencode-config.js";
import { runOpencodeOnHost } from "../../src/orchestrator/opencode/run-on-host.js";
import { HOST_OPENCODE_BIN } from "../../test/support/base-image.js";
import { stubPlanToml } from "../../test/support/orchestrate-fixture.js";

const TASKS = Array.from({ length: 8 }, (_, i) => `task-${i + 1}`);
const PARALLEL = 4;
// Each task writes task-N.txt: the check passes in a task's worker and on the integrated branch.
const RUN = `merge = "integrate"\nverify = ["ls task-*.txt"]`;
const OVERHEAD_GOAL = 0.1;

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
  // allSettled: a failed host run must not leave the others running past the part's cleanup
  const lanes = await Promise.allSettled(Array.from({ length: PARALLEL }, async () => { for (let t = queue.shift(); t; t = queue.shift()) runMs.push(await hostRun(t)); }));
  const failed = lanes.find((lane): lane is PromiseRejectedResult => lane.status === "rejected");
  if (failed) throw failed.reason;
  return { wallMs: performance.now() - started, runMs };
}

interface AgentisoRun {
  /** A workspace of the image created and destroyed first: a new pool takes the image in once. */
  firstImageUseMs: number;
  wallMs: number;
  report: WrittenReport;
  timeline: RunTimeline;
}

// `agentiso orchestrate` of the 8 tasks (max_parallel 4, verify, integrate) on a daemon of its
// own, with its progress lines timed as they arrive.
async function measureAgentiso(dir: string, stubUrl: string): Promise<AgentisoRun> {
  const repo = join(dir, "repo");
  await makeRepo(repo);
  writeFileSync(join(dir, "plan.toml"), stubPlanToml({ repo, stubUrl, tasks: TASKS, keyEnv: "BENCH_KEY", maxParallel: PARALLEL, run: RUN }));
  await using rig = await startDaemonRig({ BENCH_KEY: "bench" });
  const warm = performance.now();
  for (const args of [["workspace", "create", "--image", "opencode", "--name", "bench-warm"], ["workspace", "destroy", "bench-warm"]]) {
    const done = await rig.cli(args);
    if (done.code !== 0) throw new Error(`${args.join(" ")}: ${done.stderr}`);
  }
  const firstImageUseMs = performance.now() - warm;
  const lines: TimedLine[] = [];
  const started = performance.now();
  const run = await rig.cli(["orchestrate", join(dir, "plan.toml"), "--results", join(dir, "results")], (text) => lines.push({ atMs: performance.now() - started, text }));
  const wallMs = performance.now() - started;
  if (run.code !== 0) throw new Error(`orchestrate failed: ${run.stderr}`);
  const report = JSON.parse(readFileSync(join(dir, "results", "report.json"), "utf8")) as WrittenReport;
  if (!report.integration?.landed || report.tasks.some((t) => t.status !== "succeeded")) throw new Error(`the run did not succeed and land: ${run.stdout}`);
  return { firstImageUseMs, wallMs, report, timeline: runTimeline(lines, report, wallMs, PARALLEL) };
}

// The whole run: wall, opencode and verify (summed and as wall time), overhead and its parts.
function printWholeRun(report: (line: string) => void, { timeline: t, firstImageUseMs }: AgentisoRun): void {
  const share = (value: number) => `${((value / t.wallMs) * 100).toFixed(1)}%`;
  const overheadMs = t.wallMs - t.coveredMs;
  report(`whole run (verify + integrate): wall ${ms(t.wallMs)}`);
  report(`  opencode: ${ms(t.opencodeSumMs)} summed over the tasks; verify: ${ms(t.verifySumMs)} summed; together they cover ${ms(t.coveredMs)} of wall time (${share(t.coveredMs)})`);
  report(`  orchestration overhead = wall − opencode − verify = ${ms(overheadMs)} = ${share(overheadMs)} of the run   goal < 10%: ${ratio(overheadMs / t.wallMs, OVERHEAD_GOAL)} of the goal`);
  report(`  (overhead is wall time during which no task's opencode or verify ran: the critical path. Work beside another task's run is hidden, not counted)`);
  for (const part of t.overhead) if (part.ms !== 0) report(`    ${ms(part.ms).padStart(10)}  ${share(part.ms).padStart(6)}  ${part.label}`);
  report(`  not in the run: the daemon's first workspace of the image (a new pool takes it in once), created and destroyed before: ${ms(firstImageUseMs)}`);
  report(`  slots: opencode + verify filled ${(t.slotShare * 100).toFixed(1)}% of ${PARALLEL} slots × the span from the first opencode start to the last verify end (the summed view)`);
}

function printResults(report: (line: string) => void, host: HostRuns, agentiso: AgentisoRun): void {
  const { tasks, stagesMs } = agentiso.report;
  const hostMean = mean(host.runMs);
  const overhead = mean(tasks.map((t) => t.durationMs - (t.phasesMs?.verify ?? 0))) - hostMean;
  const phase = (name: keyof NonNullable<WrittenReport["tasks"][number]["phasesMs"]>) => mean(tasks.map((t) => t.phasesMs?.[name] ?? 0));
  const onPath = phase("waited") + phase("collect");
  const pct = (value: number) => `${((value / hostMean) * 100).toFixed(1)}%`;
  report(`host, one after another:   ${ms(host.sequentialMs)}`);
  const host4 = mean(host.fourAtATimeMs);
  report(`host, 4 at a time:         ${ms(host4)} (mean of a round before agentiso's, ${ms(host.fourAtATimeMs[0]!)}, and one after, ${ms(host.fourAtATimeMs[1]!)})`);
  report(`agentiso, max_parallel 4:  ${ms(agentiso.wallMs)} (${ratio(agentiso.wallMs, host.sequentialMs)} of sequential, ${ratio(agentiso.wallMs, host4)} of host 4-at-a-time; includes building the golden, verify and integration, which the host rounds do not do)`);
  if (stagesMs) report(`agentiso, the 8 tasks:     ${ms(stagesMs.tasks)} (${ratio(stagesMs.tasks, host4)} of host 4-at-a-time; the golden was built in ${ms(stagesMs.golden)} before)`);
  report(`overhead per task (fork + setup + collect + destroy, verify left out): ${ms(overhead)} = ${pct(overhead)} of a host run at 4 at a time (${ms(hostMean)})   goal < 10%`);
  report(`  (a task's time from its turn to its results minus a host run: includes opencode being slower in a worker, and any change of machine load between the two)`);
  report(`  per task, mean: fork ${ms(phase("fork"))} + setup ${ms(phase("setup"))}, of which its turn waited ${ms(phase("waited"))}; opencode ${ms(phase("run"))}; collect ${ms(phase("collect"))}; destroy ${ms(phase("destroy"))} (after the result, in the background)`);
  report(`  on the critical path by phase (waited + collect): ${ms(onPath)} = ${pct(onPath)}; all four phases' work: ${ms(phase("fork") + phase("setup") + phase("collect") + phase("destroy"))}; verify ${ms(phase("verify"))}`);
  printWholeRun(report, agentiso);
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

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export default part;
