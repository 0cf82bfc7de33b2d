// Warm pool benchmark (crun/runc + btrfs, through the daemon): workspace_create served from a pool of
// started containers until its first exec returns, unnamed (the pooled ws-<id> name is kept) and
// named (the host renames the container: one nsenter), against a cold create of the same image
// with other limits (no pool of that key), paired in the same loop so load hits all three alike.
// Each pooled sample is taken with the pool full again, as a caller arriving after a refill.
// Then warm forks ([pool] forksPerSnapshot = 2): workspace_fork served from the fork pool of a
// snapshot until its first exec returns (the fresh fork → first exec is in engine.ts).
import { loadavg } from "node:os";
import type { BenchPart } from "../index.js";
import { ms, percentile } from "../stats.js";
import { startDaemonRig, type DaemonRig } from "../daemon-rig.js";

const GOAL_MS = 20;
// issue 15: fork → first exec p50 ≤ 80 ms through the API
const FORK_GOAL_MS = 80;
const TWENTY_GOAL_MS = 1000;
const ROUNDS = 12;

interface Ws {
  id: string;
  name: string;
}

interface PoolView {
  ready: number;
  hits: number;
  misses: number;
  forkOf?: { snapshot: string };
}

const part: BenchPart = {
  name: "warm pool (crun/runc + btrfs, through the daemon): create → first exec, warm fork → first exec",
  async unavailable() {
    return process.getuid?.() === 0 ? undefined : "needs root";
  },
  async run(report) {
    await using rig = await startDaemonRig({}, { configToml: "[pool]\nforksPerSnapshot = 2\n\n[[pool.entries]]\nsize = 2\n" });
    const cold = () => createToFirstExec(rig, { memory: "256M" });
    await cold(); // imports the base once
    const loadBefore = loadavg();
    const samples = { unnamed: [] as number[], named: [] as number[], cold: [] as number[], floor: [] as number[] };
    const parts = { create: [] as number[], exec: [] as number[] };
    const steady = await rig.api.call<Ws>("workspace_create", { memory: "256M" });
    for (let i = 0; i < ROUNDS; i++) {
      await waitForPool(rig, 2);
      samples.unnamed.push(await createToFirstExec(rig, {}, parts));
      await waitForPool(rig, 2);
      samples.named.push(await createToFirstExec(rig, { name: `bench-${i}` }));
      samples.cold.push(await cold());
      const started = performance.now();
      await rig.api.call("exec", { workspace: steady.id, argv: ["true"] });
      samples.floor.push(performance.now() - started);
    }
    const loadAfter = loadavg();
    const pool = { pools: (await pools(rig)).filter((p) => !p.forkOf) };
    const line = (what: string, values: number[], goal = "") => report(`${what} p50 ${ms(percentile(values, 50))}  p95 ${ms(percentile(values, 95))}${goal}`);
    line("pooled create → first exec (unnamed):  ", samples.unnamed, `   goal p50 ≤ ${GOAL_MS} ms: ${percentile(samples.unnamed, 50) <= GOAL_MS ? "met" : "NOT met"}`);
    report(`  of which workspace_create p50 ${ms(percentile(parts.create, 50))}, the first exec p50 ${ms(percentile(parts.exec, 50))}; an exec in a long-running workspace (the floor) p50 ${ms(percentile(samples.floor, 50))}`);
    line("pooled create → first exec (named):    ", samples.named, "   (+ the host renames the container)");
    line("cold create → first exec (same image): ", samples.cold);
    report(`pool hits ${pool.pools[0]?.hits} misses ${pool.pools[0]?.misses} (expected ${2 * ROUNDS} hits, 0 misses); load average ${fmt(loadBefore)} before, ${fmt(loadAfter)} after (2 cores)`);
    await warmForks(rig, steady, line);
    await twentyWarmForks(line);
  },
};

// 20 forks at once with 20 in the pool ([pool] forksPerSnapshot = 20), each then answering an
// exec: the "20 concurrent forks ready ≤ 1 s", on a daemon of its own.
async function twentyWarmForks(line: (what: string, values: number[], goal?: string) => void): Promise<void> {
  await using rig = await startDaemonRig({}, { configToml: "[pool]\nforksPerSnapshot = 20\n" });
  const origin = await rig.api.call<Ws>("workspace_create", { memory: "256M" });
  await rig.api.call("snapshot", { action: "create", workspace: origin.id, name: "s" });
  const begin = await rig.api.call<Ws[]>("workspace_fork", { workspace: origin.id, snapshot: "s" });
  await rig.api.call("workspace_destroy", { workspace: begin[0]!.id });
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) {
    await waitFor(async () => (await pools(rig)).find((p) => p.forkOf?.snapshot === "s")!.ready >= 20);
    const started = performance.now();
    const forks = await rig.api.call<Ws[]>("workspace_fork", { workspace: origin.id, snapshot: "s", count: 20 });
    await Promise.all(forks.map((fork) => rig.api.call("exec", { workspace: fork.id, argv: ["true"] })));
    samples.push(performance.now() - started);
    await Promise.all(forks.map((fork) => rig.api.call("workspace_destroy", { workspace: fork.id })));
  }
  line("20 warm forks at once, all answering:   ", samples, `   goal ≤ ${TWENTY_GOAL_MS} ms: ${percentile(samples, 50) <= TWENTY_GOAL_MS ? "met" : "NOT met"} (forksPerSnapshot = 20)`);
}

// Warm fork → first exec through the API: the pool of steady@s begun by one fresh fork, each sample with it full again.
async function warmForks(rig: DaemonRig, origin: Ws, line: (what: string, values: number[], goal?: string) => void): Promise<void> {
  await rig.api.call("snapshot", { action: "create", workspace: origin.id, name: "s" });
  const forkToFirstExec = async () => {
    const started = performance.now();
    const [fork] = await rig.api.call<Ws[]>("workspace_fork", { workspace: origin.id, snapshot: "s" });
    await rig.api.call("exec", { workspace: fork!.id, argv: ["true"] });
    const took = performance.now() - started;
    await rig.api.call("workspace_destroy", { workspace: fork!.id });
    return took;
  };
  await forkToFirstExec(); // fresh: begins the pool
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await waitFor(async () => (await pools(rig)).find((p) => p.forkOf?.snapshot === "s")!.ready >= 2);
    samples.push(await forkToFirstExec());
  }
  const forkPool = (await pools(rig)).find((p) => p.forkOf?.snapshot === "s")!;
  line("warm fork → first exec (API):           ", samples, `   goal p50 ≤ ${FORK_GOAL_MS} ms: ${percentile(samples, 50) <= FORK_GOAL_MS ? "met" : "NOT met"}; fork pool hits ${forkPool.hits} misses ${forkPool.misses} (expected ${ROUNDS}, 1)`);
}

async function pools(rig: DaemonRig): Promise<PoolView[]> {
  return (await rig.api.call<{ pools: PoolView[] }>("workspace_pool", {})).pools;
}

// Wall time from workspace_create to the end of its first exec of `true` (the destroy after it is not timed).
async function createToFirstExec(rig: DaemonRig, input: Record<string, unknown>, parts?: { create: number[]; exec: number[] }): Promise<number> {
  const started = performance.now();
  const ws = await rig.api.call<Ws>("workspace_create", input);
  const created = performance.now();
  await rig.api.call("exec", { workspace: ws.id, argv: ["true"] });
  const took = performance.now() - started;
  parts?.create.push(created - started);
  parts?.exec.push(took - (created - started));
  await rig.api.call("workspace_destroy", { workspace: ws.id });
  return took;
}

async function waitForPool(rig: DaemonRig, ready: number): Promise<void> {
  await waitFor(async () => (await pools(rig)).filter((p) => !p.forkOf).reduce((sum, p) => sum + p.ready, 0) >= ready);
}

async function waitFor(full: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await full())) {
    if (Date.now() > deadline) throw new Error("the warm pool did not fill in 2 minutes");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function fmt(load: number[]): string {
  return load.map((l) => l.toFixed(2)).join(" ");
}

export default part;
