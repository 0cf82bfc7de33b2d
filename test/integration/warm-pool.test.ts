// The container warm pool through the real CLI, daemon, runc and btrfs pool: a create of a
// pool's settings is served from it (counted as a hit), one of other limits is not; the
// workspace handed out has its own name as hostname, its limits, and nothing of an earlier
// claim; the pool refills, an idle pool empties and wakes at the next create of its settings,
// a killed daemon's pooled containers are adopted, and a stopped daemon leaves nothing of them.
// One daemon, pools of one. (The workspace contract suite runs on a pooled workspace in
// cli-workspace.test.ts.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { isRunningSync } from "../../src/core/process-state.js";
import { CliHarness } from "../support/cli-harness.js";
import { ociContainerExists, ociContainerNames } from "../support/oci-runtimes.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

const MiB = 1024 * 1024;
// a pool of 200 MiB ones, kept; one of 192 MiB, 100 pids, emptied 3 s after it filled
const CONFIG = `[[pool.entries]]
size = 1
memory = "200M"

[[pool.entries]]
size = 1
memory = "192M"
pidsLimit = 100
idleTimeout = "3s"
`;

interface Pool {
  memoryMiB: number;
  ready: number;
  hits: number;
  misses: number;
  reaped: number;
  dormant: boolean;
}

interface Ws {
  id: string;
  name: string;
  memoryMiB: number;
}

describe("warm pool of containers", { skip: requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap")), timeout: 600_000 }, () => {
  let cli: CliHarness;
  const sh = (ws: string, script: string) => cli.ok(["ws", "exec", ws, "--", "sh", "-c", script]);
  const pool = async (memoryMiB: number) => (JSON.parse(await cli.ok(["op", "workspace_pool"])) as { pools: Pool[] }).pools.find((p) => p.memoryMiB === memoryMiB)!;
  const until = async (memoryMiB: number, wanted: (p: Pool) => boolean, what: string) => {
    const deadline = Date.now() + 120_000;
    for (let p = await pool(memoryMiB); !wanted(p); p = await pool(memoryMiB)) {
      if (Date.now() > deadline) throw new Error(`pool ${memoryMiB} MiB: ${what} not reached: ${JSON.stringify(p)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const tag = () => resourceTagFor(cli.home);
  // ids of this daemon's containers (its OCI runtimes' state dirs), pooled or not
  const containerIds = () => ociContainerNames(cli.home).map((name) => name.slice(tag().name("ws", "").length));
  const pooledIds = async () => {
    const listed = new Set((await cli.json<Ws[]>(["ws", "ls"])).map((w) => w.id));
    return containerIds().filter((id) => !listed.has(id));
  };

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness();
    writeFileSync(join(cli.home, "config.toml"), CONFIG, { mode: 0o600 });
    await cli.ok(["init", "--pool-size", "8G"]);
    await until(200, (p) => p.ready === 1, "filled");
  });
  after(async () => {
    await cli?.[Symbol.asyncDispose]();
  });

  test("a create of a pool's settings is a hit and gets its name as hostname and its limits; one of other limits is not served from a pool", async () => {
    const alpha = await cli.json<Ws>(["ws", "create", "--name", "alpha", "--memory", "200M"]);
    assert.deepEqual([(await pool(200)).hits, (await pool(200)).misses], [1, 0]);
    const beta = await cli.json<Ws>(["ws", "create", "--name", "beta", "--memory", "300M"]);
    assert.deepEqual([(await pool(200)).hits, (await pool(200)).misses], [1, 0], "other limits: no hit, no miss");
    assert.equal(await sh("alpha", "hostname; grep -c alpha /etc/hosts"), "alpha\n1\n");
    const cgroup = (controller: string, file: string) => readFileSync(`/sys/fs/cgroup/${controller}/${tag().name("ws", alpha.id)}/${file}`, "utf8").trim();
    assert.equal(cgroup("memory", "memory.limit_in_bytes"), String(200 * MiB));
    assert.equal(alpha.memoryMiB, 200);
    // what a program sees of its environment is what a cold workspace's sees, the name aside
    const envOf = (ws: string) => sh(ws, "env | grep -v '^PWD=' | sort; cat /etc/hostname 2>/dev/null; id");
    assert.equal(await envOf("alpha"), await envOf("beta"));
    assert.ok(!(await cli.ok(["ws", "ls"])).includes("pool"), "pooled workspaces are not listed");
    await cli.ok(["ws", "destroy", beta.name]);
  });

  test("the pool refills, and the next claim holds nothing of the one before", async () => {
    await sh("alpha", "echo secret > /root/left-behind; echo x > /tmp/t");
    await cli.ok(["ws", "env", "alpha", "LEFT=behind"]);
    const alpha = await cli.json<Ws>(["ws", "info", "alpha"]);
    await cli.ok(["ws", "destroy", "alpha"]);
    await until(200, (p) => p.ready === 1, "refilled");
    const gamma = await cli.json<Ws>(["ws", "create", "--name", "gamma", "--memory", "200M"]);
    assert.equal((await pool(200)).hits, 2);
    assert.notEqual(gamma.id, alpha.id, "a pooled container is never reused");
    assert.equal(await sh("gamma", 'hostname; ls /root/left-behind /tmp/t 2>&1 | wc -l; echo "[$LEFT]"'), "gamma\n2\n[]\n");
  });

  test("an idle pool empties after its timeout and refills at the next create of its settings, which is served cold", async () => {
    await until(192, (p) => p.reaped === 1 && p.ready === 0 && p.dormant, "reaped"); // and then nobody asks: stays so
    const delta = await cli.json<Ws>(["ws", "create", "--name", "delta", "--memory", "192M", "--pids-limit", "100"]);
    assert.deepEqual([(await pool(192)).hits, (await pool(192)).misses], [0, 1]);
    assert.equal(readFileSync(`/sys/fs/cgroup/pids/${tag().name("ws", delta.id)}/pids.max`, "utf8").trim(), "100");
    // refilled: ready now, or already reaped again (3 s pass quickly on a loaded machine)
    await until(192, (p) => p.ready === 1 || p.reaped === 2, "woken and refilled");
    await cli.ok(["ws", "destroy", "delta"]);
  });

  test("after kill -9 of the daemon the pooled containers are adopted; daemon stop destroys them and leaves nothing of them", async () => {
    await until(200, (p) => p.ready === 1, "full");
    // the 200 MiB pool's container (the idle pool's may come and go meanwhile)
    const limitOf = (id: string) => readFileIfAny(`/sys/fs/cgroup/memory/${tag().name("ws", id)}/memory.limit_in_bytes`)?.trim();
    const ofServedPool = (ids: string[]) => ids.filter((id) => limitOf(id) === String(200 * MiB));
    const pooled = ofServedPool(await pooledIds());
    assert.equal(pooled.length, 1);
    const pid = cli.daemonPid()!;
    process.kill(pid, "SIGKILL");
    while (isRunningSync(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
    await until(200, (p) => p.ready === 1, "adopted"); // starts the next daemon
    assert.deepEqual(ofServedPool(await pooledIds()), pooled, "the same container, not a new one");
    const all = await pooledIds();

    await cli.ok(["daemon", "stop"]);
    const poolMount = readFileSync("/proc/mounts", "utf8").split("\n").find((line) => line.split(" ")[1]?.startsWith(cli.home))!.split(" ")[1]!;
    for (const id of all) {
      const name = tag().name("ws", id);
      const left = [
        ...readdirSync("/sys/fs/cgroup").filter((controller) => existsSync(`/sys/fs/cgroup/${controller}/${name}`)).map((c) => `cgroup ${c}/${name}`),
        ...(ociContainerExists(cli.home, name) ? [`OCI container ${name}`] : []),
        ...(existsSync(join(cli.home, "run", id)) ? [`run dir ${id}`] : []),
        ...(existsSync(join(poolMount, tag().prefix, "workspaces", id)) ? [`volume ${id}`] : []),
        ...(existsSync(`/run/netns/${name}`) ? [`netns ${name}`] : []),
        ...readFileSync("/proc/mounts", "utf8").split("\n").filter((line) => line.includes(id)).map((line) => `mount ${line.split(" ")[1]}`),
      ];
      assert.deepEqual(left, [], `pooled workspace ${id}`);
    }
    assert.deepEqual(containerIds(), [(await cli.json<Ws>(["ws", "info", "gamma"])).id], "the handed-out workspace runs on");
  });
});

function readFileIfAny(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
