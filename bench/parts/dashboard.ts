// Dashboard benchmark: what the web dashboard's event stream costs the daemon. 50 workspaces
// exist and a 20-task orchestration runs with the stub model, twice on one daemon: once with no
// page open, once with the event stream read the whole time (what an open page receives,
// usage of the 50 cgroups read every 3 s included). The daemon's CPU time over each run (from
// /proc/PID/stat) as a share of one core, and the difference, against the goal of < 5%.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import type { BenchPart } from "../index.js";
import { ms } from "../stats.js";
import { startDaemonRig, type DaemonRig } from "../daemon-rig.js";
import { runCommand } from "../../src/core/run-command.js";
import { startStubServer } from "../../src/llm/stub-server.js";
import type { StubScriptInput } from "../../src/llm/stub-script.js";
import { stubPlanToml } from "../../test/support/orchestrate-fixture.js";

const WORKSPACES = 50;
const TASKS = Array.from({ length: 20 }, (_, i) => `t${i + 1}`);
const PARALLEL = 4;
const GOAL = 0.05;
const CLOCK_TICKS = 100; // USER_HZ on Linux

const SCRIPT: StubScriptInput = {
  rules: TASKS.map((name) => ({
    match: { firstUserMessageContains: `TASK-${name}` },
    steps: [{ toolCalls: [{ name: "write", arguments: { filePath: `{{workdir}}/${name}.txt`, content: `${name}\n` } }] }, { text: "done" }],
  })),
};

// CPU seconds (user + system) the process has used so far.
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function ok(rig: DaemonRig, args: string[]): Promise<string> {
  const run = await rig.cli(args);
  if (run.code !== 0) throw new Error(`agentiso ${args.join(" ")}: ${run.stderr}`);
  return run.stdout;
}

// Signs in like a browser and reads the event stream until stopped; counts what arrives.
async function openStream(rig: DaemonRig): Promise<{ stop: () => { events: number; bytes: number } }> {
  const { url } = JSON.parse(await ok(rig, ["dashboard", "--json"])) as { url: string };
  const login = new URL(url);
  const cookie = await new Promise<string>((resolve, reject) => {
    request(login, (res) => (res.resume(), resolve(String(res.headers["set-cookie"]).split(";")[0]!))).on("error", reject).end();
  });
  let events = 0;
  let bytes = 0;
  const req = request(new URL("/api/events", login), { headers: { cookie } }, (res) => {
    res.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      events += chunk.toString().split("event: ").length - 1; // a frame split across chunks may be missed: about right
    });
  });
  req.on("error", () => {});
  req.end();
  return { stop: () => (req.destroy(), { events, bytes }) };
}

async function orchestrate(rig: DaemonRig, dir: string, round: string, stubUrl: string): Promise<number> {
  const repo = join(dir, `repo-${round}`);
  await runCommand(["git", "init", "-q", repo]);
  writeFileSync(join(repo, "README.md"), "bench\n");
  await runCommand(["git", "-C", repo, "add", "."]);
  await runCommand(["git", "-C", repo, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init"]);
  const plan = join(dir, `plan-${round}.toml`);
  writeFileSync(plan, stubPlanToml({ repo, stubUrl, tasks: TASKS, keyEnv: "BENCH_KEY", maxParallel: PARALLEL }));
  const started = performance.now();
  await ok(rig, ["orchestrate", plan, "--results", join(dir, `results-${round}`)]);
  return performance.now() - started;
}

const part: BenchPart = {
  name: "dashboard event stream (50 workspaces, 20-task stub orchestration)",
  async unavailable() {
    return process.getuid?.() === 0 ? undefined : "needs root";
  },
  async run(report) {
    const dir = mkdtempSync("/tmp/ais-bench-dash-");
    await using stub = await startStubServer({ script: SCRIPT });
    try {
      await using rig = await startDaemonRig({ BENCH_KEY: "bench" });
      const pid = Number(readFileSync(join(rig.home, "engine.lock"), "utf8").trim());
      await ok(rig, ["ws", "create", "--name", "dash-0", "--memory", "64M"]);
      await ok(rig, ["ws", "snapshot", "dash-0", "s"]);
      await ok(rig, ["ws", "fork", "dash-0", "--snapshot", "s", "--count", String(WORKSPACES - 1), "--name-prefix", "dash"]);
      await ok(rig, ["ws", "create", "--image", "opencode", "--name", "warm"]);
      await ok(rig, ["ws", "destroy", "warm"]);
      const rounds: Array<{ label: string; wallMs: number; cpu: number; stream?: { events: number; bytes: number } }> = [];
      for (const label of ["no page", "event stream open"]) {
        const stream = label === "no page" ? undefined : await openStream(rig);
        const cpuBefore = cpuSeconds(pid);
        const wallMs = await orchestrate(rig, dir, String(rounds.length), stub.url);
        const cpu = cpuSeconds(pid) - cpuBefore;
        rounds.push({ label, wallMs, cpu, ...(stream && { stream: stream.stop() }) });
      }
      for (const r of rounds) {
        const share = r.cpu / (r.wallMs / 1000);
        report(`${r.label.padEnd(18)} wall ${ms(r.wallMs)}, daemon CPU ${r.cpu.toFixed(2)} s = ${(share * 100).toFixed(1)}% of a core${r.stream ? `; stream: ${r.stream.events} events, ${(r.stream.bytes / 1024).toFixed(0)} KiB` : ""}`);
      }
      const [without, withPage] = rounds as [(typeof rounds)[0], (typeof rounds)[0]];
      const extra = withPage.cpu / (withPage.wallMs / 1000) - without.cpu / (without.wallMs / 1000);
      report(`extra daemon CPU with the stream open: ${(extra * 100).toFixed(2)} percentage points of a core   goal < ${GOAL * 100}%: ${extra < GOAL ? "met" : "NOT met"}`);
      report(`  (${WORKSPACES} workspaces, ${TASKS.length} tasks at max_parallel ${PARALLEL}; machine load shifts both rounds)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default part;
