// VM benchmark (QEMU microVMs on the btrfs loop pool, through the daemon), under TCG as on a
// machine without KVM, and again under KVM where /dev/kvm is usable: cold boot to agent
// ready, template restore to agent ready, warm-pool create, and fork-to-first-exec for a VM
// (of a disk snapshot: boots cold; of a memory snapshot: resumes) against a container forked
// the same way in the same run.
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import type { BenchPart } from "../index.js";
import { ms, percentile } from "../stats.js";
import { startDaemonRig, type DaemonRig } from "../daemon-rig.js";

interface Ws {
  id: string;
}

const part: BenchPart = {
  name: "vm (QEMU microvm + btrfs, through the daemon)",
  async unavailable() {
    if (process.getuid?.() !== 0) return "needs root";
    return (await access("/usr/bin/qemu-system-x86_64", constants.X_OK).then(() => true, () => false)) ? undefined : "qemu-system-x86_64 is missing";
  },
  async run(report) {
    const { disk: containerFork } = await forkToFirstExec("container", {});
    report(`container fork to first exec (baseline): p50 ${ms(percentile(containerFork, 50))}  p95 ${ms(percentile(containerFork, 95))}`);
    const kvm = await kvmBootsHere();
    if (!kvm) report("no KVM that boots a guest here (agentiso check): TCG only");
    for (const accel of kvm ? (["tcg", "kvm"] as const) : (["tcg"] as const)) {
      await measureAccel(accel, containerFork, report);
    }
  },
};

async function measureAccel(accel: "tcg" | "kvm", containerFork: number[], report: (line: string) => void): Promise<void> {
  const env = { AGENTISO_VM_ACCEL: accel };
  {
    await using rig = await startDaemonRig({ ...env, AGENTISO_VM_TEMPLATES: "false" });
    const cold = await createAndDestroy(rig, 3);
    report(`[${accel}] cold boot to agent ready:     p50 ${ms(percentile(cold, 50))}  p95 ${ms(percentile(cold, 95))}`);
  }
  {
    await using rig = await startDaemonRig(env);
    const first = await createAndDestroy(rig, 1); // captures the template
    const firstExec: number[] = [];
    const restore = await createAndDestroy(rig, 5, firstExec);
    report(`[${accel}] template restore to ready:    p50 ${ms(percentile(restore, 50))}  p95 ${ms(percentile(restore, 95))}  (first create, capturing it: ${ms(first[0]!)})${accel === "tcg" ? "   goal < 1000 ms" : ""}`);
    report(`[${accel}]   then the first exec:        p50 ${ms(percentile(firstExec, 50))}  (TCG translates the resumed guest's code afresh)`);
  }
  {
    await using rig = await startDaemonRig({ ...env, AGENTISO_VM_WARM_POOL: "2" });
    await createAndDestroy(rig, 1); // the template exists before the pool fills
    const pooled: number[] = [];
    for (let i = 0; i < 4; i++) {
      await waitForPool(rig, 2);
      pooled.push(...(await createAndDestroy(rig, 1)));
    }
    report(`[${accel}] warm-pool create:             p50 ${ms(percentile(pooled, 50))}  p95 ${ms(percentile(pooled, 95))}${accel === "tcg" ? "   goal < 200 ms" : ""}`);
  }
  const { disk: vmFork, memory: memoryFork } = await forkToFirstExec("vm", env);
  const ratio = (times: number[]) => `${(percentile(times, 50) / percentile(containerFork, 50)).toFixed(1)}x the container's`;
  report(`[${accel}] vm fork to first exec:        p50 ${ms(percentile(vmFork, 50))}  p95 ${ms(percentile(vmFork, 95))}  (${ratio(vmFork)}; a disk snapshot's fork boots cold)`);
  report(`[${accel}] memory-snapshot fork to first exec: p50 ${ms(percentile(memoryFork, 50))}  p95 ${ms(percentile(memoryFork, 95))}  (${ratio(memoryFork)}; resumes the saved machine)${accel === "tcg" ? "   goal <= 1000 ms" : ""}`);
}

// Wall time of workspace_create (until it returns a running workspace whose agent answered
// and was configured) for n workspaces, one at a time; the first exec after it is timed apart.
async function createAndDestroy(rig: DaemonRig, n: number, firstExec: number[] = []): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const ws = await rig.api.call<Ws>("workspace_create", { runtime: "vm" });
    times.push(performance.now() - started);
    const execStarted = performance.now();
    await rig.api.call("exec", { workspace: ws.id, argv: ["true"] });
    firstExec.push(performance.now() - execStarted);
    await rig.api.call("workspace_destroy", { workspace: ws.id });
  }
  return times;
}

// Fork of a snapshot of a running workspace until its first exec returns; for a VM also of a
// memory snapshot of it (taken after the disk one, so the disk forks cannot profit from it).
async function forkToFirstExec(runtime: "container" | "vm", env: NodeJS.ProcessEnv): Promise<{ disk: number[]; memory: number[] }> {
  await using rig = await startDaemonRig(env);
  const golden = await rig.api.call<Ws>("workspace_create", { runtime });
  await rig.api.call("snapshot", { workspace: golden.id, action: "create", name: "s" });
  const disk = await forks(rig, golden, "s", runtime === "vm" ? 3 : 8);
  if (runtime === "container") return { disk, memory: [] };
  await rig.api.call("snapshot", { workspace: golden.id, action: "create", name: "m", includeMemory: true });
  return { disk, memory: await forks(rig, golden, "m", 5) };
}

async function forks(rig: DaemonRig, golden: Ws, snapshot: string, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const [fork] = await rig.api.call<Ws[]>("workspace_fork", { workspace: golden.id, snapshot });
    await rig.api.call("exec", { workspace: fork!.id, argv: ["true"] });
    times.push(performance.now() - started);
    await rig.api.call("workspace_destroy", { workspace: fork!.id });
  }
  return times;
}

// What `agentiso check` decides for accel "auto" (it boot-probes KVM: /dev/kvm alone can lie).
async function kvmBootsHere(): Promise<boolean> {
  await using rig = await startDaemonRig();
  const report = JSON.parse((await rig.cli(["check", "--json"])).stdout) as { checks: Array<{ name: string; detail: string }> };
  return report.checks.some((c) => c.name === "vm: vm path" && c.detail.startsWith("KVM"));
}

async function waitForPool(rig: DaemonRig, size: number): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    const pool = await rig.api.call<{ ready: number }>("workspace_pool", {});
    if (pool.ready >= size) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the warm pool did not fill in 10 minutes");
}

export default part;
