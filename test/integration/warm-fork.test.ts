// Warm forks through the real CLI, daemon, runc and btrfs pool ([pool] forksPerSnapshot = 2):
// a fork begins the pool of its snapshot; a fork of 3 then takes the 2 ready ones (hits) and
// forks 1 fresh; each has the snapshot's files, its own name as hostname and the lineage of a
// fork, and its writes stay its own; deleting the snapshot while the pool is full destroys the
// pooled forks first and leaves nothing of them; destroying the origin works; a daemon killed
// with -9 leaves pooled forks that the next one destroys.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { isRunningSync } from "../../src/core/process-state.js";
import { CliHarness } from "../support/cli-harness.js";
import { ociContainerExists, ociContainerNames } from "../support/oci-runtimes.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { FORK_POOL_CONFIG, forkPoolOf, untilForkPool } from "../support/warm-fork-pool.js";

interface Ws {
  id: string;
  name: string;
  forkedFrom?: { workspace: string; workspaceId: string; snapshot: string };
}

describe("warm forks of containers", { skip: requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap")), timeout: 600_000 }, () => {
  let cli: CliHarness;
  let origin: Ws;
  const sh = (ws: string, script: string) => cli.ok(["ws", "exec", ws, "--", "sh", "-c", script]);
  const tag = () => resourceTagFor(cli.home);
  // ids of this daemon's containers (its OCI runtimes' state dirs) that `ws ls` does not list: the pooled ones
  const pooledIds = async () => {
    const listed = new Set((await cli.json<Ws[]>(["ws", "ls"])).map((w) => w.id));
    return ociContainerNames(cli.home).map((name) => name.slice(tag().name("ws", "").length)).filter((id) => !listed.has(id));
  };

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness();
    writeFileSync(join(cli.home, "config.toml"), FORK_POOL_CONFIG, { mode: 0o600 });
    await cli.ok(["init", "--pool-size", "8G"]);
    origin = await cli.json<Ws>(["ws", "create", "--name", "origin", "--memory", "256M"]);
    await sh("origin", "mkdir -p /workspace && echo v1 > /workspace/a.txt");
    await cli.ok(["ws", "snapshot", "origin", "golden"]);
    await sh("origin", "echo v2 > /workspace/a.txt");
  });
  after(async () => {
    await cli?.[Symbol.asyncDispose]();
  });

  test("a fork begins the pool; a fork of 3 takes the 2 ready ones and forks 1; each has the snapshot's files, its name, the lineage, its own writes", async () => {
    assert.equal(await forkPoolOf(cli, "origin", "golden"), undefined, "no pool before a fork");
    await cli.ok(["ws", "fork", "origin", "--snapshot", "golden", "--name", "first"]);
    const full = await untilForkPool(cli, "origin", "golden", (p) => p.ready === 2, "filled");
    assert.deepEqual([full.hits, full.misses], [0, 1]);
    assert.match(full.key, new RegExp(`^fork of ${origin.id}@golden base container memory=256Mi `));
    const pooled = await pooledIds();
    assert.equal(pooled.length, 2);

    const started = performance.now();
    const forks = await cli.json<Ws[]>(["ws", "fork", "origin", "--snapshot", "golden", "--count", "3", "--name-prefix", "w"]);
    console.log(`# fork --count 3 with 2 warm: ${Math.round(performance.now() - started)} ms (CLI)`);
    const after = (await forkPoolOf(cli, "origin", "golden"))!;
    assert.deepEqual([after.hits, after.misses], [2, 2], "2 from the pool, 1 fresh");
    assert.equal(forks.filter((w) => pooled.includes(w.id)).length, 2);
    for (const w of forks) {
      assert.equal(await sh(w.name, `cat /workspace/a.txt; hostname; grep -cw ${w.name} /etc/hosts`), `v1\n${w.name}\n1\n`);
      const info = await cli.json<Ws>(["ws", "info", w.name]);
      assert.deepEqual(info.forkedFrom, { workspace: "origin", workspaceId: origin.id, snapshot: "golden" });
    }
    await sh("w-1", "echo mine > /workspace/own.txt");
    assert.equal(await sh("w-2", "ls /workspace; ls /workspace/own.txt 2>/dev/null | wc -l"), "a.txt\n0\n");
    assert.equal(await sh("w-3", "ls /workspace/own.txt 2>/dev/null | wc -l"), "0\n");
    const [golden] = await cli.json<Array<{ dependents: string[] }>>(["ws", "snapshots", "origin"]);
    assert.deepEqual(golden!.dependents.sort(), ["first", "w-1", "w-2", "w-3"], "pooled forks are no dependents");
    assert.match(await cli.ok(["ws", "ls"]), /w-1 .*origin@golden/, "FORKED FROM as for a fresh fork");
  });

  test("after kill -9 of the daemon the next one destroys the pooled forks", async () => {
    await untilForkPool(cli, "origin", "golden", (p) => p.ready === 2, "refilled");
    const pid = cli.daemonPid()!;
    process.kill(pid, "SIGKILL");
    while (isRunningSync(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await forkPoolOf(cli, "origin", "golden"), undefined, "a fork pool begins again at the next fork"); // starts the next daemon
    for (const deadline = Date.now() + 30_000; (await pooledIds()).length > 0; await new Promise((resolve) => setTimeout(resolve, 200))) {
      if (Date.now() > deadline) throw new Error(`pooled forks left: ${(await pooledIds()).join(" ")}`);
    }
  });

  test("deleting the snapshot while its pool is full destroys the pooled forks first and leaves nothing of them; destroying the origin works", async () => {
    for (const w of ["first", "w-1", "w-2", "w-3"]) await cli.ok(["ws", "destroy", w]);
    await cli.ok(["ws", "fork", "origin", "--snapshot", "golden", "--name", "first"]);
    await untilForkPool(cli, "origin", "golden", (p) => p.ready === 2, "filled");
    await cli.ok(["ws", "destroy", "first"]);
    const pooled = await pooledIds();
    assert.equal(pooled.length, 2);
    await cli.ok(["ws", "snapshot-rm", "origin", "golden"]);
    assert.equal(await forkPoolOf(cli, "origin", "golden"), undefined, "the pool is dropped");
    const poolMount = readFileSync("/proc/mounts", "utf8").split("\n").find((line) => line.split(" ")[1]?.startsWith(cli.home))!.split(" ")[1]!;
    for (const id of pooled) {
      const name = tag().name("ws", id);
      const left = [
        ...(ociContainerExists(cli.home, name) ? [`OCI container ${name}`] : []),
        ...(existsSync(join(poolMount, tag().prefix, "workspaces", id)) ? [`volume ${id}`] : []),
        ...readFileSync("/proc/mounts", "utf8").split("\n").filter((line) => line.includes(id)).map((line) => `mount ${line.split(" ")[1]}`),
      ];
      assert.deepEqual(left, [], `pooled fork ${id}`);
    }
    // a new pool of another snapshot, full when the origin goes
    await cli.ok(["ws", "snapshot", "origin", "again"]);
    await cli.ok(["ws", "fork", "origin", "--snapshot", "again", "--name", "second"]);
    await untilForkPool(cli, "origin", "again", (p) => p.ready === 2, "filled");
    await cli.ok(["ws", "destroy", "second"]);
    await cli.ok(["ws", "destroy", "origin"]);
    assert.deepEqual(await cli.json(["ws", "ls"]), []);
    assert.deepEqual(await pooledIds(), [], "its pooled forks went with it");
  });
});
