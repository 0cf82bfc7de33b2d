// The container runtime with a real OCI runtime (each of crun and runc this host can use), tini,
// cgroups and the base image: lifecycle, readiness, adopt after a restart (by a daemon that now
// starts containers with the other OCI runtime), limits, and that stop leaves nothing behind.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { connectUnix, GuestClient } from "../../src/guest/index.js";
import { runCommand } from "../../src/core/run-command.js";
import { cgroupHierarchies } from "../../src/runtimes/host-cgroups.js";
import { isRunning, waitForExit } from "../../src/core/process-state.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { RuntimeHarness } from "../support/runtime-harness.js";
import { ociRuntimesToTest } from "../support/oci-runtimes.js";

const THRASH_SCRIPT = readFileSync(join(import.meta.dirname, "../support/thrash.pl"), "utf8");

const skip = requires(hasCommand("runc"), hasCommand("slirp4netns"), hasCommand("nft"), hasCommand("mmdebstrap"), isRoot());

// Connects to the endpoint with the real client and completes the hello handshake.
async function hello(path: string): Promise<string> {
  await using client = new GuestClient({ connect: connectUnix(path) });
  return (await client.connect()).type;
}

async function cgroupFile(controller: string, name: string, file: string): Promise<string> {
  const hierarchy = (await cgroupHierarchies()).find((h) => h.endsWith(`/${controller}`) || h.includes(`,${controller}`) || h.includes(`${controller},`));
  return (await readFile(`${hierarchy}/${name}/${file}`, "utf8")).trim();
}

// pids.current at the limit now, or pids.events counting a refused fork (v2 and v1 on recent kernels).
async function bombHitLimit(name: string): Promise<boolean> {
  if (Number(await cgroupFile("pids", name, "pids.current")) >= 64) return true;
  const events = await cgroupFile("pids", name, "pids.events").catch(() => "");
  return Number(/^max (\d+)/m.exec(events)?.[1] ?? 0) > 0;
}

const ociRuntimes = await ociRuntimesToTest();
for (const oci of ociRuntimes) {
  const other = ociRuntimes.find((o) => o.name !== oci.name && o.skip === false)?.name;
  describe(`container runtime under ${oci.name}`, { skip: skip || oci.skip }, () => {
    let harness: RuntimeHarness;
    before(async () => {
      harness = await RuntimeHarness.create({ ociRuntime: oci.name });
    });
    after(async () => {
      assert.deepEqual(await harness.close(), []);
    });

    test("check() finds everything the runtime needs on this machine", async () => {
      const checks = await harness.runtime.check();
      assert.deepEqual(checks.filter((c) => !c.ok), []);
      assert.ok(checks.some((c) => c.name === "OCI runtime" && c.detail.startsWith(`${oci.name} version`)), JSON.stringify(checks));
    });

    test("a started workspace is ready, runs commands as root in its own pid namespace, and stop leaves nothing behind", async () => {
      await harness.with({}, async (ws) => {
        assert.equal(await hello(ws.instance.endpoint.path), "hello");
        const ps = await harness.sh(ws.id, "id -u; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'");
        const [uid, init, count] = ps.stdout.trim().split("\n");
        assert.equal(uid, "0");
        assert.match(init!, /^\/\.agentiso\/tini -s -- \/usr\/bin\/node \/\.agentiso\/agent\.cjs/);
        assert.ok(Number(count) < 10, `saw ${count} processes`);
        const name = harness.runtime.resourceName(ws.id);
        assert.ok(!existsSync(`/run/netns/${name}`), "a workspace without a network gets its namespace named only when it needs one");
        await harness.runtime.setNetwork(ws.id, "egress");
        assert.ok(existsSync(`/run/netns/${name}`));
        assert.match((await harness.sh(ws.id, "ls /sys/class/net")).stdout, /\btap0\b/, "egress came up in the workspace's own namespace");
        await harness.stop(ws.id);
        assert.deepEqual(await harness.leftovers(), []);
        for (const hierarchy of await cgroupHierarchies()) assert.ok(!existsSync(`${hierarchy}/${name}`), `${hierarchy}/${name} left`);
        assert.match(await harness.runtime.logs(ws.id), /"reason":"SIGTERM"/, "stop is graceful: the agent saw SIGTERM");
      });
    });

    test("start returns once the container runs and ready once its agent listens; a stop before that ends the wait, starting nothing again", async () => {
      const ws = await harness.launch();
      assert.ok(ws.instance.ready, "the start did not wait for the agent");
      assert.ok(await isRunning(ws.instance.pid), "init runs when start returns");
      assert.deepEqual(await ws.instance.ready, { pid: ws.instance.pid });
      assert.equal(await hello(ws.instance.endpoint.path), "hello");
      await harness.stop(ws.id, { timeoutMs: 0 });
      // stopped before the wait could see the agent (no I/O ran between start's return and stop)
      const early = await harness.launch();
      await harness.stop(early.id, { timeoutMs: 0 });
      await assert.rejects(early.instance.ready!, /was stopped before its agent listened/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(await harness.leftovers(), [], "the failed wait did not start it again");
    });

    test("files written inside land on the host under the shifted uid", async () => {
      await harness.with({}, async (ws) => {
        await harness.sh(ws.id, "echo x > /root/owned && chown 1000:1000 /root/owned && echo y > /root/rootfile");
        const { stat } = await import("node:fs/promises");
        const merged = `${harness.stateDir}/rootfs/${ws.id}/merged`;
        assert.equal((await stat(`${merged}/root/owned`)).uid, 101000);
        assert.equal((await stat(`${merged}/root/rootfile`)).uid, 100000);
        await harness.stop(ws.id);
      });
    });

    test("after a daemon restart a new runtime object adopts the running workspace and can stop it, though it starts new ones with the other OCI runtime", async () => {
      await harness.with({}, async (ws) => {
        const restarted = harness.restarted(other);
        assert.deepEqual(await restarted.listInstances(), [ws.id]);
        const adopted = await restarted.adopt(ws.id, ws.runDir);
        const { ready: _ready, ...started } = ws.instance;
        assert.deepEqual(adopted, started, "the same instance, whose agent listens already");
        assert.equal(await hello(adopted!.endpoint.path), "hello");
        assert.match(await restarted.logs(ws.id), /agent ready/);
        await restarted.stop(ws.id);
        assert.equal(await restarted.adopt(ws.id, ws.runDir), undefined);
        assert.deepEqual(await harness.leftovers(), []);
      });
    });

    test("a workspace whose init died is not adopted, is still listed, and stop reaps what it left", async () => {
      const ws = await harness.start({ network: "egress" });
      try {
        process.kill(ws.instance.pid, "SIGKILL");
        assert.ok(await waitForExit(ws.instance.pid, 10_000), "init exited after SIGKILL");
        assert.equal(await harness.restarted().adopt(ws.id, ws.runDir), undefined);
        assert.ok((await harness.runtime.listInstances()).includes(ws.id), "the dead workspace is listed for reaping");
      } finally {
        await harness.stop(ws.id);
      }
      assert.deepEqual(await harness.leftovers(), []);
    });

    test("orphaned tagged cgroups and network namespaces are listed and removed by stop", async () => {
      const id = `orphan-${process.pid}`;
      const name = harness.runtime.resourceName(id);
      const pids = (await cgroupHierarchies()).find((h) => h.endsWith("/pids"))!;
      await mkdir(`${pids}/${name}`);
      await runCommand(["ip", "netns", "add", name]);
      try {
        assert.ok((await harness.runtime.listInstances()).includes(id));
      } finally {
        await harness.stop(id);
      }
      assert.ok(!existsSync(`${pids}/${name}`));
      assert.ok(!existsSync(`/run/netns/${name}`));
    });

    test("stopping a workspace that is not running is a no-op and adopt finds nothing", async () => {
      await harness.stop("never-started");
      assert.equal(await harness.runtime.adopt("never-started", harness.runDir("never-started")), undefined);
    });

    test("a rootfs that is not uid-shifted is refused with INVALID_INPUT and leaves nothing behind", async () => {
      const dir = await mkdtemp("/tmp/aisrt-unshifted-");
      try {
        const start = harness.runtime.start({
          workspaceId: "unshifted",
          hostname: "unshifted",
          rootfs: { kind: "directory", path: dir },
          resources: { memoryMiB: 128, cpus: 1, pidsLimit: 64 },
          network: "none",
          runDir: harness.runDir("unshifted"),
        });
        await assert.rejects(start, (err: unknown) => isAgentisoError(err, "INVALID_INPUT"));
        assert.deepEqual(await harness.leftovers(), []);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test("a memory hog is killed by the memory limit (exit 137) and the workspace stays usable", async () => {
      await harness.with({ resources: { memoryMiB: 128, cpus: 1, pidsLimit: 128 } }, async (ws) => {
        const hog = await harness.sh(ws.id, `exec node -e 'const a = []; for (;;) a.push(Buffer.alloc(16 << 20, 1))'`);
        assert.equal(hog.exitCode, 137, hog.stderr);
        assert.equal((await harness.sh(ws.id, "echo alive")).stdout, "alive\n");
        assert.equal(await cgroupFile("memory", harness.runtime.resourceName(ws.id), "memory.limit_in_bytes"), String(128 * 1024 * 1024));
        await harness.stop(ws.id);
      });
    });

    // The kernel does not OOM-kill this one: reclaim keeps finding the file's clean pages (test/support/thrash.pl).
    test("a process thrashing at the memory limit is killed by the thrash guard; init and the agent live on", async () => {
      await harness.with({ resources: { memoryMiB: 128, cpus: 1, pidsLimit: 128 } }, async (ws) => {
        const before = await harness.sh(ws.id, "echo $PPID");
        const thrash = await harness.sh(ws.id, `cat > /root/thrash.pl <<'PERL'\n${THRASH_SCRIPT}\nPERL\nexec perl /root/thrash.pl 80 64 /root/pages.bin`, 60_000);
        assert.equal(thrash.exitCode, 137, thrash.stderr);
        assert.equal(thrash.stdout, "thrashing\n", "the script reached its thrashing loop");
        assert.match(await harness.runtime.logs(ws.id), /"msg":"agentiso killed a process thrashing at the workspace's memory limit".*"command":"perl","limitMiB":128/);
        assert.equal((await harness.sh(ws.id, "echo $PPID")).stdout, before.stdout, "the same agent answers");
        await harness.stop(ws.id);
      });
    });

    test("a workspace at its limit that only writes files (page cache, no faults) is not killed", async () => {
      await harness.with({ resources: { memoryMiB: 96, cpus: 1, pidsLimit: 128 } }, async (ws) => {
        const writer = await harness.sh(ws.id, "dd if=/dev/zero of=/root/big bs=1M count=300 2>/dev/null && sleep 4 && echo done", 60_000);
        assert.equal(writer.exitCode, 0, writer.stderr);
        assert.equal(writer.stdout, "done\n");
        assert.doesNotMatch(await harness.runtime.logs(ws.id), /thrashing/);
        await harness.stop(ws.id);
      });
    });

    test("a fork bomb hits the pids limit, the host keeps spawning processes, and stop still cleans up", async () => {
      await harness.with({ resources: { memoryMiB: 256, cpus: 1, pidsLimit: 64 } }, async (ws) => {
        const name = harness.runtime.resourceName(ws.id);
        await harness.runcSh(ws.id, "(b() { b | b & }; b) >/dev/null 2>&1 </dev/null &");
        // wait on the cgroup's own counter (its failcount where the kernel has one), not a sleep; under load the bomb can take a while
        const deadline = Date.now() + 30_000;
        while (!(await bombHitLimit(name)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        assert.ok(await bombHitLimit(name), "the fork bomb reached the pids limit within 30 s");
        assert.equal(await cgroupFile("pids", name, "pids.max"), "64");
        assert.ok(Number(await cgroupFile("pids", name, "pids.current")) <= 64);
        assert.equal((await runCommand(["true"])).exitCode, 0, "the host still spawns processes");
        await harness.stop(ws.id, { timeoutMs: 0 });
        assert.deepEqual(await harness.leftovers(), []);
      });
    });

    test("the cpu quota is set from cpus and visible inside through the read-only cgroup tree", async () => {
      await harness.with({ resources: { memoryMiB: 256, cpus: 0.5, pidsLimit: 128 } }, async (ws) => {
        const name = harness.runtime.resourceName(ws.id);
        assert.equal(await cgroupFile("cpu", name, "cpu.cfs_quota_us"), "50000");
        assert.equal(await cgroupFile("cpu", name, "cpu.cfs_period_us"), "100000");
        const inside = await harness.sh(ws.id, "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us 2>/dev/null | head -1");
        assert.equal(inside.stdout.trim(), "50000");
        await harness.stop(ws.id);
      });
    });
  });
}
