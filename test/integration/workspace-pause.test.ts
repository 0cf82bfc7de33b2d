// Pause and resume through the real CLI and daemon, on both runtimes: a busy loop uses no CPU
// while its workspace is paused (a container: its cgroup's CPU usage; a microVM under TCG: the
// QEMU process's CPU time) and runs on with the same pid after resume; exec answers CONFLICT
// meanwhile; the pause survives a daemon restart; the guest's clock is right after resume;
// stop, destroy and (for containers) snapshots work on a paused workspace. One workspace per runtime.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

interface Ws {
  id: string;
  name: string;
  state: string;
  pid?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CLOCK_TICK_MS = 10; // USER_HZ = 100 on Linux

// CPU time (ms) of a container's cgroup: cgroup v2 cpu.stat, else v1 cpuacct.usage.
function cgroupCpuMs(name: string): number {
  for (const dir of [`/sys/fs/cgroup/${name}`, `/sys/fs/cgroup/unified/${name}`]) {
    if (existsSync(`${dir}/cpu.stat`)) return Number(/^usage_usec (\d+)/m.exec(readFileSync(`${dir}/cpu.stat`, "utf8"))![1]) / 1000;
  }
  return Number(readFileSync(`/sys/fs/cgroup/cpuacct/${name}/cpuacct.usage`, "utf8")) / 1e6;
}

// utime + stime of a host process (ms), from /proc/PID/stat.
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

interface PauseSuite {
  runtime: "container" | "vm";
  skip: string | false;
  env: NodeJS.ProcessEnv;
  /** CPU time (ms) the workspace has used so far, read on the host. */
  cpuMs(cli: CliHarness, ws: Ws): number;
  /** What the host may still spend on a paused workspace in a second (QEMU's main loop for a VM). */
  pausedAllowanceMs: number;
}

function describePause(suite: PauseSuite): void {
  describe(`pause and resume (${suite.runtime} runtime)`, { skip: suite.skip, timeout: 900_000 }, () => {
    let cli: CliHarness;
    let ws: Ws;
    let loopPid: number;
    const name = `p-${suite.runtime}`;
    // how much CPU the workspace uses over one second
    const cpuOverASecond = async () => {
      const before = suite.cpuMs(cli, ws);
      const started = performance.now();
      await sleep(1000);
      return ((suite.cpuMs(cli, ws) - before) * 1000) / (performance.now() - started);
    };
    const guestCpuTicks = async () => Number((await cli.ok(["ws", "exec", name, "--", "sh", "-c", `cut -d' ' -f14 /proc/${loopPid}/stat`])).trim());

    before(async () => {
      await ensureImage("base");
      cli = new CliHarness({ AGENTISO_RUNTIME: suite.runtime, ...suite.env });
      await cli.ok(["init", "--pool-size", "8G"]);
      ws = await cli.json<Ws>(["ws", "create", "--name", name, "--memory", "256M"]);
      const job = JSON.parse(await cli.ok(["op", "exec_background", "--workspace", name, "--action", "start", "--command", "while :; do :; done"])) as { pid: number };
      loopPid = job.pid;
    });
    after(async () => {
      await cli?.[Symbol.asyncDispose]();
    });

    test("a busy loop uses CPU while running and none while paused; exec on the paused workspace is a CONFLICT", async () => {
      const running = await cpuOverASecond();
      assert.ok(running > 300, `the busy loop runs: ${running.toFixed(0)} ms of CPU per second`);
      assert.equal((await cli.json<Ws>(["ws", "pause", name])).state, "paused");
      const paused = await cpuOverASecond();
      console.log(`${suite.runtime}: ${running.toFixed(0)} ms of CPU per second running, ${paused.toFixed(1)} ms paused`);
      assert.ok(paused <= suite.pausedAllowanceMs, `paused, it still used ${paused.toFixed(1)} ms of CPU in a second`);
      const refused = await cli.run(["ws", "exec", name, "--", "true"]);
      assert.equal(refused.code, 125, "ws exec: the command could not run");
      assert.match(refused.stderr, /is paused: resume it first/);
      assert.deepEqual((await cli.json<Ws[]>(["ws", "ls"])).map((w) => [w.name, w.state]), [[name, "paused"]]);
    });

    test("the pause survives a daemon restart; resume lets the same process run on", async () => {
      await cli.ok(["daemon", "stop"]);
      assert.equal((await cli.json<Ws[]>(["ws", "ls"]))[0]?.state, "paused", "adopted paused by the next daemon");
      assert.ok((await cpuOverASecond()) <= suite.pausedAllowanceMs, "still frozen after the restart");
      assert.equal((await cli.json<Ws>(["ws", "resume", name])).state, "running");
      // a VM's clock stood still while paused: resume sets it again
      const guestMs = Number((await cli.ok(["ws", "exec", name, "--", "date", "+%s%3N"])).trim());
      assert.ok(Math.abs(guestMs - Date.now()) < 3000, `the guest's clock is ${guestMs - Date.now()} ms off the host's after seconds paused`);
      const first = await guestCpuTicks();
      await sleep(1000);
      const second = await guestCpuTicks();
      console.log(`${suite.runtime}: after resume the loop (pid ${loopPid}) went from ${first} to ${second} ticks of CPU in ~1 s`);
      assert.ok(second > first, "the same busy loop keeps counting");
      assert.ok((await cpuOverASecond()) > 300);
    });

    if (suite.runtime === "container") {
      test("a paused container can be snapshotted and stopped", async () => {
        await cli.ok(["ws", "pause", name]);
        await cli.ok(["ws", "snapshot", name, "frozen"]);
        assert.equal((await cli.json<Ws>(["ws", "stop", name])).state, "stopped");
      });
    } else {
      test("a paused VM refuses a snapshot (its kernel may hold writes) and can be destroyed", async () => {
        await cli.ok(["ws", "pause", name]);
        const refused = await cli.run(["ws", "snapshot", name, "frozen"]);
        assert.equal(refused.code, 5);
        assert.match(refused.stderr, /paused VM.*resume it first/);
        await cli.ok(["ws", "destroy", name]);
        assert.deepEqual(await cli.json(["ws", "ls"]), []);
      });
    }
  });
}

describePause({
  runtime: "container",
  skip: requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap")),
  env: {},
  cpuMs: (cli, ws) => cgroupCpuMs(resourceTagFor(cli.home).name("ws", ws.id)),
  pausedAllowanceMs: 0,
});

// Under TCG, boot cold (no memory template to capture first): one VM, ~10 s.
describePause({
  runtime: "vm",
  skip: requires(isRoot(), hasCommand("qemu-system-x86_64"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("mkfs.ext4")),
  env: { AGENTISO_VM_ACCEL: "tcg", AGENTISO_VM_TEMPLATES: "false" },
  cpuMs: (_cli, ws) => processCpuMs(ws.pid!),
  pausedAllowanceMs: 50,
});
