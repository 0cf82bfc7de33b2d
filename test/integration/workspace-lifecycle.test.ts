// Lifecycle limits through the real CLI and daemon (runc, btrfs, the base image), with
// deadlines of seconds: a ttl destroys, an idle timeout stops — not while execs keep coming, a
// long exec or a background job runs — each reap is in the daemon's log and in /metrics, and a
// daemon started after a deadline passed reaps at once. Polls with `ws ls`, which names no
// workspace and so never counts as activity.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

interface Ws {
  id: string;
  name: string;
  state: string;
  lifecycle?: { ttl?: { action: string; at: string }; idle?: { action: string; timeoutSeconds: number; lastActivityAt: string; at?: string } };
}

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("lifecycle limits through the CLI and daemon", { skip, timeout: 600_000 }, () => {
  let cli: CliHarness;
  const stateOf = async (name: string) => (await cli.json<Ws[]>(["ws", "ls"])).find((w) => w.name === name)?.state;
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  };
  const logLines = (msg: string) =>
    readFileSync(join(cli.home, "daemon.log"), "utf8")
      .split("\n")
      .filter((line) => line.includes(`"msg":"${msg}"`))
      .map((line) => JSON.parse(line) as { time: string; name: string; reason: string; action: string; overdueMs: number });
  const reapLines = () => logLines("workspace reaped");
  const metric = async (series: string) => {
    const { metrics } = await cli.json<{ metrics: { host: string; port: number } }>(["daemon", "status"]);
    const text = await (await fetch(`http://${metrics.host}:${metrics.port}/metrics`)).text();
    return Number(text.split("\n").find((line) => line.startsWith(`${series} `))?.split(" ")[1]);
  };

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness({ AGENTISO_METRICS_LISTEN: "127.0.0.1:0" });
    await cli.ok(["init", "--pool-size", "8G"]);
    // the first create imports the base image into the pool (seconds): not part of any deadline below
    await cli.ok(["ws", "create", "--name", "warm-up", "--memory", "128M"]);
    await cli.ok(["ws", "destroy", "warm-up"]);
  });
  after(async () => {
    await cli?.[Symbol.asyncDispose]();
  });

  test("--ttl 3s destroys the workspace seconds after its deadline; the reap is logged and counted", async () => {
    const ws = await cli.json<Ws>(["ws", "create", "--name", "short", "--memory", "128M", "--ttl", "3s"]);
    assert.equal(ws.lifecycle?.ttl?.action, "destroy");
    assert.equal(ws.lifecycle?.idle, undefined, "CLI-created workspaces get no idle timeout by default");
    const info = await cli.ok(["ws", "info", "short"]);
    assert.match(info, /^ttl: destroy at \S+ \(in [0-3]s\)$/m);
    await until("the ttl reap", async () => (await stateOf("short")) === undefined);
    const line = reapLines().find((l) => l.name === "short");
    assert.deepEqual([line?.reason, line?.action], ["ttl", "destroy"]);
    console.log(`ttl reap: ${line!.overdueMs} ms after the deadline`);
    assert.ok(line!.overdueMs < 6000, `reaped ${line!.overdueMs} ms late`);
    assert.equal(await metric('agentiso_workspaces_reaped_total{action="destroy",reason="ttl"}'), 1);
  });

  test("an idle timeout does not stop a workspace that keeps getting execs, runs a long exec or a background job; then it stops one timeout later", async () => {
    await cli.ok(["ws", "create", "--name", "busy", "--memory", "128M", "--idle-timeout", "3s", "--on-expire", "stop"]);
    for (let i = 0; i < 6; i++) {
      await cli.ok(["ws", "exec", "busy", "--", "true"]);
      await sleep(1000);
    }
    assert.equal(await stateOf("busy"), "running", "an exec every second for 6 s");
    assert.equal(await cli.ok(["ws", "exec", "busy", "--", "sh", "-c", "sleep 6; echo done"]), "done\n", "a 6 s exec runs to its end");
    const jobEndsAfterMs = Date.now() + 6000; // the job's sleep starts after this, so it ends after it too
    await cli.ok(["op", "exec_background", "--workspace", "busy", "--action", "start", "--command", "sleep 6"]);
    await sleep(5000);
    assert.equal(await stateOf("busy"), "running", "a background job is activity while it runs");
    await until("the idle stop", async () => (await stateOf("busy")) === "stopped");
    const stoppedAtMs = Date.parse(reapLines().find((l) => l.name === "busy")!.time);
    const afterJob = stoppedAtMs - jobEndsAfterMs;
    console.log(`idle stop: at most ${afterJob} ms after the background job ended (timeout 3 s; a running job is asked again every 1 s)`);
    assert.ok(afterJob >= 2000, `stopped ${afterJob} ms after the job: too early`);
    assert.equal(reapLines().find((l) => l.name === "busy")?.reason, "idle");
    assert.equal(await metric('agentiso_workspaces_reaped_total{action="stop",reason="idle"}'), 1);
    await cli.ok(["ws", "destroy", "busy"]);
  });

  test("deadlines survive a daemon restart: the daemon is down past them, the next one reaps at once", async () => {
    const withTtl = await cli.json<Ws>(["ws", "create", "--name", "r-ttl", "--memory", "128M", "--ttl", "10s"]);
    const withIdle = await cli.json<Ws>(["ws", "create", "--name", "r-idle", "--memory", "128M", "--idle-timeout", "10s", "--idle-action", "destroy"]);
    await cli.ok(["ws", "create", "--name", "r-kept", "--memory", "128M"]);
    await cli.ok(["daemon", "stop"]);
    assert.deepEqual(reapLines().filter((l) => l.name.startsWith("r-")), [], "the daemon stopped before the deadlines");
    await sleep(Math.max(Date.parse(withTtl.lifecycle!.ttl!.at), Date.parse(withIdle.lifecycle!.idle!.at!)) - Date.now() + 1000);
    const startedAtMs = Date.now();
    await cli.ok(["daemon"]);
    await until("the reaps after the restart", async () => {
      const names = (await cli.json<Ws[]>(["ws", "ls"])).map((w) => w.name);
      return !names.includes("r-ttl") && !names.includes("r-idle");
    });
    const openedAtMs = Date.parse(logLines("engine opened").at(-1)!.time);
    const reaps = reapLines().filter((l) => l.name.startsWith("r-"));
    assert.deepEqual(reaps.map((l) => [l.name, l.reason, l.action]).sort(), [["r-idle", "idle", "destroy"], ["r-ttl", "ttl", "destroy"]]);
    const promptMs = Math.max(...reaps.map((l) => Date.parse(l.time) - openedAtMs));
    const fromStartMs = Math.max(...reaps.map((l) => Date.parse(l.time) - startedAtMs));
    console.log(`after the restart: both overdue workspaces reaped ${promptMs} ms after the engine opened (${fromStartMs} ms after \`agentiso daemon\` was run)`);
    assert.ok(promptMs < 3000, `reaped ${promptMs} ms after the open`);
    assert.deepEqual((await cli.json<Ws[]>(["ws", "ls"])).filter((w) => w.name.startsWith("r-")).map((w) => [w.name, w.state]), [["r-kept", "running"]]);
    await cli.ok(["ws", "destroy", "r-kept"]);
  });

  test("ws lifecycle shows and changes limits; bad durations and actions get exit 2 with the fix", async () => {
    await cli.ok(["ws", "create", "--name", "later", "--memory", "128M"]);
    assert.match(await cli.ok(["ws", "lifecycle", "later"]), /no ttl, no idle timeout/);
    const set = await cli.json<Ws>(["ws", "lifecycle", "later", "--ttl", "2h", "--idle-timeout", "30m", "--idle-action", "destroy"]);
    assert.deepEqual([set.lifecycle?.ttl?.action, set.lifecycle?.idle?.action, set.lifecycle?.idle?.timeoutSeconds], ["destroy", "destroy", 1800]);
    assert.ok(Math.abs(Date.parse(set.lifecycle!.ttl!.at) - Date.now() - 7_200_000) < 60_000);
    assert.match(await cli.ok(["ws", "lifecycle", "later", "--ttl", "none"]), /^idle: destroy after 30m without activity, at \S+ \(in 30m\) unless used/m);
    const badDuration = await cli.run(["ws", "lifecycle", "later", "--ttl", "soon"]);
    assert.equal(badDuration.code, 2);
    assert.match(badDuration.stderr, /invalid duration "soon": use seconds or a number with a unit, e\.g\. 90s, 30m, 2h/);
    assert.equal((await cli.run(["ws", "create", "--idle-timeout", "5m", "--idle-action", "pause"])).code, 2);
    assert.match((await cli.run(["ws", "create", "--on-expire", "stop"])).stderr, /--on-expire goes with --ttl or --idle-timeout/);
    assert.match((await cli.ok(["ws", "create", "--help"])), /--ttl 24h\|none\] \[--idle-timeout 30m\|none\] \[--on-expire stop\|destroy\]/);
    await cli.ok(["ws", "destroy", "later"]);
  });
});
