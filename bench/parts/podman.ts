// agentiso against podman, what a person would otherwise run parallel agent sandboxes in, on
// the same work: the base image's Debian rootfs imported into podman (overlay, the same OCI
// runtime agentiso chose — crun, or runc where crun cannot run — network none, a private storage
// root torn down after), a workspace/container holding the same
// prepared files, CLI against CLI, each step paired (agentiso then podman, alternating) in
// one process. Ratios are agentiso's time over podman's: below 1 agentiso is faster; the goal
// of issue 15 is ≤ 0.8 for every row. The warm-fork row runs on a second daemon with
// [pool] forksPerSnapshot = 2. Skipped without podman (apt-get install podman).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import type { BenchPart } from "../index.js";
import { startDaemonRig, type DaemonRig } from "../daemon-rig.js";
import { ms, percentile } from "../stats.js";
import { ensureBaseImage } from "../../test/support/base-image.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { chooseOciRuntime } from "../../src/runtimes/container/oci-runtime-choice.js";

const PREPARED_MIB = Number(process.env.AGENTISO_BENCH_PREPARED_MIB ?? 392);
// 1 MiB files in directories of 49: a dependency tree's bulk without its millions of tiny files
const PREPARE = `set -e; for d in $(seq 1 $((${PREPARED_MIB} / 49 + 1))); do mkdir -p /prepared/d$d; done; for i in $(seq 1 ${PREPARED_MIB}); do head -c 1048576 /dev/urandom > /prepared/d$(( (i - 1) / 49 + 1 ))/f$i; done`;
const SAMPLES = 5;

interface Row {
  step: string;
  agentiso: number[];
  podman: number[];
}

const part: BenchPart = {
  name: "agentiso vs podman (same rootfs and prepared files, CLI against CLI)",
  async unavailable() {
    if (process.getuid?.() !== 0) return "needs root";
    if ((await run(["podman", "--version"]).catch(() => undefined))?.code !== 0) return "podman is not installed (apt-get install podman)";
    return undefined;
  },
  async run(report) {
    const load = loadavg().map((l) => l.toFixed(2)).join(" ");
    await using rig = await startDaemonRig();
    // podman on Debian installs crun first too (Depends: crun | runc): both sides get the same one
    const oci = await chooseOciRuntime("auto");
    await using podman = await startPodman(oci.name);
    const cli = async (args: string[]) => expectOk(await rig.cli(args), `agentiso ${args.join(" ")}`);
    const { rootfsDir } = await ensureBaseImage();
    await podman.importRootfs(rootfsDir, "base");
    await cli(["ws", "create", "--name", "golden"]);
    await cli(["ws", "exec", "golden", "--", "sh", "-c", PREPARE]);
    await podman.ok(["run", "-d", ...podman.runFlags, "--name", "golden", "base", "sleep", "infinity"]);
    await podman.ok(["exec", "golden", "sh", "-c", PREPARE]);
    report(`prepared content: ${PREPARED_MIB} MiB of files in each; OCI runtime of both: ${oci.version}; load average at start ${load}`);

    const rows: Row[] = [];
    const pair = async (step: string, count: number, ours: (i: number) => Promise<unknown>, theirs: (i: number) => Promise<unknown>, after?: (i: number) => Promise<unknown>) => {
      const row: Row = { step, agentiso: [], podman: [] };
      for (let i = 0; i < count; i++) {
        for (const [side, fn] of (i % 2 === 0 ? [["agentiso", ours], ["podman", theirs]] : [["podman", theirs], ["agentiso", ours]]) as Array<["agentiso" | "podman", (i: number) => Promise<unknown>]>) {
          const started = performance.now();
          await fn(i);
          row[side].push(performance.now() - started);
        }
        await after?.(i);
      }
      rows.push(row);
    };

    await pair("snapshot the prepared workspace (ws snapshot vs podman commit)", 3, (i) => cli(["ws", "snapshot", "golden", `s${i}`]), (i) => podman.ok(["commit", "-q", "golden", `s${i}`]));
    await pair(
      "fork one worker (ws fork --count 1 vs podman run -d)", SAMPLES,
      (i) => cli(["ws", "fork", "golden", "--snapshot", "s0", "--count", "1", "--name-prefix", `one${i}`]),
      (i) => podman.ok(["run", "-d", ...podman.runFlags, "--name", `one${i}`, "s0", "sleep", "infinity"]),
      (i) => Promise.all([cli(["ws", "rm", `one${i}-1`]), podman.ok(["rm", "-f", "-t", "0", `one${i}`])]),
    );
    await pair(
      "fork + first exec (two CLI calls each)", SAMPLES,
      async (i) => (await cli(["ws", "fork", "golden", "--snapshot", "s0", "--count", "1", "--name-prefix", `fx${i}`]), await cli(["ws", "exec", `fx${i}-1`, "--", "true"])),
      async (i) => (await podman.ok(["run", "-d", ...podman.runFlags, "--name", `fx${i}`, "s0", "sleep", "infinity"]), await podman.ok(["exec", `fx${i}`, "true"])),
      (i) => Promise.all([cli(["ws", "rm", `fx${i}-1`]), podman.ok(["rm", "-f", "-t", "0", `fx${i}`])]),
    );
    await pair(
      "fork + first exec, one CLI call (ws fork -- true vs run -d + exec)", SAMPLES,
      (i) => cli(["ws", "fork", "golden", "--snapshot", "s0", "--name", `fo${i}`, "--", "true"]),
      async (i) => (await podman.ok(["run", "-d", ...podman.runFlags, "--name", `fo${i}`, "s0", "sleep", "infinity"]), await podman.ok(["exec", `fo${i}`, "true"])),
      (i) => Promise.all([cli(["ws", "rm", `fo${i}`]), podman.ok(["rm", "-f", "-t", "0", `fo${i}`])]),
    );
    await pair("exec in a running one (ws exec -- true vs podman exec)", 10, () => cli(["ws", "exec", "golden", "--", "true"]), () => podman.ok(["exec", "golden", "true"]));
    await pair(
      "20 forks at once (--count 20 vs 20 parallel run -d)", 2,
      (i) => cli(["ws", "fork", "golden", "--snapshot", "s0", "--count", "20", "--name-prefix", `many${i}`]),
      (i) => Promise.all(Array.from({ length: 20 }, (_, k) => podman.ok(["run", "-d", ...podman.runFlags, "--name", `many${i}-${k + 1}`, "s0", "sleep", "infinity"]))),
      async (i) => {
        if (i === 1) rows.push(await idleMemory(rig, podman, "many1"));
        await Promise.all(Array.from({ length: 20 }, (_, k) => Promise.all([cli(["ws", "rm", `many${i}-${k + 1}`]), podman.ok(["rm", "-f", "-t", "0", `many${i}-${k + 1}`])])));
      },
    );

    await warmForkRow(podman, pair);

    report("| step | agentiso p50 | podman p50 | ratio | goal ≤ 0.8x |");
    report("|---|---|---|---|---|");
    for (const row of rows) {
      const [ours, theirs] = [percentile(row.agentiso, 50), percentile(row.podman, 50)];
      const isMemory = row.step.startsWith("idle memory");
      const show = (v: number) => (isMemory ? `${v.toFixed(1)} MiB` : ms(v));
      report(`| ${row.step} | ${show(ours)} | ${show(theirs)} | ${(ours / theirs).toFixed(2)}x | ${ours / theirs <= 0.8 ? "✔" : "✗"} |`);
    }
    report("both forks return once the container's init runs: podman's runs the command; agentiso's agent (node) starts in the background, and the first exec waits for it");
    report(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  },
};

type Pair = (step: string, count: number, ours: (i: number) => Promise<unknown>, theirs: (i: number) => Promise<unknown>, after?: (i: number) => Promise<unknown>) => Promise<void>;

// A fork served from a warm pool of forks ([pool] forksPerSnapshot = 2), each sample with the
// pool full again. A daemon of its own: on the first one every fork row above would be warm too.
async function warmForkRow(podman: Podman, pair: Pair): Promise<void> {
  await using rig = await startDaemonRig({}, { configToml: "[pool]\nforksPerSnapshot = 2\n" });
  const cli = async (args: string[]) => expectOk(await rig.cli(args), `agentiso ${args.join(" ")}`);
  const full = async () => {
    const deadline = Date.now() + 120_000;
    const ready = async () => (await rig.api.call<{ pools: Array<{ ready: number; forkOf?: unknown }> }>("workspace_pool", {})).pools.find((p) => p.forkOf)?.ready ?? 0;
    while ((await ready()) < 2) {
      if (Date.now() > deadline) throw new Error("the fork pool did not fill in 2 minutes");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await cli(["ws", "create", "--name", "golden"]);
  await cli(["ws", "exec", "golden", "--", "sh", "-c", PREPARE]);
  await cli(["ws", "snapshot", "golden", "s0"]);
  await cli(["ws", "fork", "golden", "--snapshot", "s0", "--name", "first"]); // begins the pool
  await full();
  await pair(
    "fork one worker from a warm pool (forksPerSnapshot=2) vs podman run -d", SAMPLES,
    (i) => cli(["ws", "fork", "golden", "--snapshot", "s0", "--count", "1", "--name-prefix", `warm${i}`]),
    (i) => podman.ok(["run", "-d", ...podman.runFlags, "--name", `warm${i}`, "s0", "sleep", "infinity"]),
    async (i) => (await Promise.all([cli(["ws", "rm", `warm${i}-1`]), podman.ok(["rm", "-f", "-t", "0", `warm${i}`])]), await full()),
  );
  await pair(
    "fork + first exec from a warm pool (two CLI calls each)", SAMPLES,
    async (i) => (await cli(["ws", "fork", "golden", "--snapshot", "s0", "--count", "1", "--name-prefix", `wx${i}`]), await cli(["ws", "exec", `wx${i}-1`, "--", "true"])),
    async (i) => (await podman.ok(["run", "-d", ...podman.runFlags, "--name", `wx${i}`, "s0", "sleep", "infinity"]), await podman.ok(["exec", `wx${i}`, "true"])),
    async (i) => (await Promise.all([cli(["ws", "rm", `wx${i}-1`]), podman.ok(["rm", "-f", "-t", "0", `wx${i}`])]), await full()),
  );
  await pair(
    "fork + first exec from a warm pool, one CLI call (ws fork -- true vs run -d + exec)", SAMPLES,
    (i) => cli(["ws", "fork", "golden", "--snapshot", "s0", "--name", `wo${i}`, "--", "true"]),
    async (i) => (await podman.ok(["run", "-d", ...podman.runFlags, "--name", `wo${i}`, "s0", "sleep", "infinity"]), await podman.ok(["exec", `wo${i}`, "true"])),
    async (i) => (await Promise.all([cli(["ws", "rm", `wo${i}`]), podman.ok(["rm", "-f", "-t", "0", `wo${i}`])]), await full()),
  );
}

// Memory of each of the 20 idle forks (cgroup v1 total_rss, the engine bench's measure) on both sides.
async function idleMemory(rig: DaemonRig, podman: Podman, prefix: string): Promise<Row> {
  const list = JSON.parse((await rig.cli(["ws", "ls", "--json"])).stdout) as Array<{ id: string; name: string }>;
  const ours = list.filter((w) => w.name.startsWith(`${prefix}-`)).map((w) => rssMiB(resourceTagFor(rig.home).name("ws", w.id)));
  const ids = (await podman.ok(["ps", "-q", "--no-trunc", "--filter", `name=^${prefix}-`])).trim().split("\n");
  const theirs = ids.map((id) => rssMiB(podmanCgroup(id)));
  return { step: "idle memory per workspace (cgroup rss, 20 idle forks)", agentiso: ours, podman: theirs };
}

function rssMiB(cgroup: string): number {
  const stat = readFileSync(`/sys/fs/cgroup/memory/${cgroup}/memory.stat`, "utf8");
  return Number(/^total_rss (\d+)$/m.exec(stat)?.[1] ?? 0) / (1024 * 1024);
}

// podman's cgroupfs manager puts a container under libpod_parent/libpod-<id>.
function podmanCgroup(id: string): string {
  const parent = "/sys/fs/cgroup/memory/libpod_parent";
  const dir = readdirSync(parent).find((name) => name.includes(id));
  if (!dir) throw new Error(`no memory cgroup for podman container ${id}`);
  return `libpod_parent/${dir}`;
}

interface Podman extends AsyncDisposable {
  runFlags: string[];
  ok(args: string[]): Promise<string>;
  importRootfs(rootfsDir: string, name: string): Promise<void>;
}

// podman with a storage root of its own (nothing of the host's /var/lib/containers is touched).
async function startPodman(ociRuntime: string): Promise<Podman> {
  const dir = mkdtempSync("/tmp/ais-bench-podman-");
  const global = ["--root", join(dir, "root"), "--runroot", join(dir, "run"), "--runtime", ociRuntime, "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs", "--events-backend", "file"];
  const ok = async (args: string[]) => expectOk(await run(["podman", ...global, ...args]), `podman ${args.join(" ")}`);
  return {
    // this host's hard rlimits are below podman's defaults, which the OCI runtime then cannot set
    runFlags: ["--network", "none", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"],
    ok,
    async importRootfs(rootfsDir, name) {
      await expectOk(await run(["sh", "-c", `tar -C '${rootfsDir}' -c . | podman ${global.join(" ")} import -q - ${name}`]), "podman import");
    },
    async [Symbol.asyncDispose]() {
      await run(["podman", ...global, "rm", "-a", "-f", "-t", "0"]);
      await run(["podman", ...global, "system", "reset", "-f"]);
      await run(["umount", "-R", join(dir, "root", "overlay")]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function expectOk(result: { code: number | null; stdout: string; stderr: string }, what: string): string {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}: ${result.stderr.slice(-500)}`);
  return result.stdout;
}

export default part;
