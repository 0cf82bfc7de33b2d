// The daemon's metrics module: names, labels (never an id), outcomes, exposition text that
// promtool accepts, the /metrics server, and listen-address parsing.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AgentisoError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logger.js";
import { runCommand } from "../../src/core/run-command.js";
import { createMetrics } from "../../src/metrics/agentiso-metrics.js";
import { parseListenAddress } from "../../src/metrics/listen-address.js";
import { startMetricsServer } from "../../src/metrics/metrics-server.js";
import { hasCommand, requires } from "../support/prereq.js";

const STATES = ["creating", "running", "stopped", "failed"];

async function sampleMetrics(counts: Record<string, number> = { running: 2, stopped: 1 }) {
  const metrics = await createMetrics({ states: STATES, countByState: () => counts });
  const events = metrics.engineEvents();
  events.workspaceStarted({ runtime: "container", durationMs: 180 });
  events.workspaceForked({ durationMs: 25 });
  events.thrashKill({ runtime: "container" });
  events.workspaceReaped({ action: "destroy", reason: "ttl" });
  metrics.observeOperation("exec", { durationMs: 12, result: { exitCode: 0, timedOut: false }, session: "s1" });
  metrics.observeOperation("exec", { durationMs: 12, result: { exitCode: 3, timedOut: false } });
  metrics.observeOperation("exec", { durationMs: 12, result: { exitCode: null, timedOut: true }, session: "s1" });
  metrics.observeOperation("exec_parallel", { durationMs: 30, result: [{ ok: true, result: { exitCode: 0 } }, { ok: false, error: { code: "NOT_FOUND" } }], session: "s1" });
  metrics.observeOperation("workspace_info", { durationMs: 1, error: new AgentisoError("NOT_FOUND", "no workspace 0a1b2c"), session: "s1" });
  const task = (status: string, input: number) => ({ status, durationMs: 9000, tokens: { input, output: 20, reasoning: 0, cacheRead: 0, cacheWrite: 0 } });
  metrics.observeOperation("orchestrate", { durationMs: 20_000, result: { report: { tasks: [task("succeeded", 300), task("succeeded", 100), task("failed", 50)] } } });
  return metrics;
}

function valueOf(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics", () => {
  test("workspaces are counted by state at scrape time, every state present even at zero", async () => {
    const counts: Record<string, number> = { running: 2 };
    const { body } = await (await sampleMetrics(counts)).text();
    assert.equal(valueOf(body, 'agentiso_workspaces{state="running"}'), 2);
    assert.equal(valueOf(body, 'agentiso_workspaces{state="failed"}'), 0);
  });

  test("exec outcomes, errors by operation and code, tool calls by tool and the duration histograms are recorded", async () => {
    const { body } = await (await sampleMetrics()).text();
    assert.equal(valueOf(body, 'agentiso_exec_total{outcome="ok"}'), 2);
    assert.equal(valueOf(body, 'agentiso_exec_total{outcome="nonzero"}'), 1);
    assert.equal(valueOf(body, 'agentiso_exec_total{outcome="timeout"}'), 1);
    assert.equal(valueOf(body, 'agentiso_exec_total{outcome="error"}'), 1);
    assert.equal(valueOf(body, 'agentiso_errors_total{operation="workspace_info",code="NOT_FOUND"}'), 1);
    assert.equal(valueOf(body, 'agentiso_tool_calls_total{tool="exec"}'), 2, "only calls with an MCP session count as tool calls");
    assert.equal(valueOf(body, 'agentiso_boot_duration_seconds_count{runtime="container"}'), 1);
    assert.equal(valueOf(body, "agentiso_fork_duration_seconds_count"), 1);
    assert.equal(valueOf(body, 'agentiso_thrash_kills_total{runtime="container"}'), 1);
    assert.equal(valueOf(body, 'agentiso_workspaces_reaped_total{action="destroy",reason="ttl"}'), 1);
    assert.equal(valueOf(body, 'agentiso_workspaces_reaped_total{action="stop",reason="idle"}'), 0, "every action and reason is a series from the start");
    assert.ok(valueOf(body, "process_cpu_user_seconds_total") !== undefined, "process metrics are exported");
  });

  test("orchestrated tasks are counted by status, their tokens by kind, their durations in a histogram", async () => {
    const { body } = await (await sampleMetrics()).text();
    assert.equal(valueOf(body, 'agentiso_opencode_tasks_total{status="succeeded"}'), 2);
    assert.equal(valueOf(body, 'agentiso_opencode_tasks_total{status="failed"}'), 1);
    assert.equal(valueOf(body, 'agentiso_opencode_tokens_total{kind="input"}'), 450);
    assert.equal(valueOf(body, 'agentiso_opencode_tokens_total{kind="output"}'), 60);
    assert.equal(valueOf(body, 'agentiso_opencode_task_duration_seconds_count{status="succeeded"}'), 2);
  });

  test("each warm pool's size, ready workspaces, hits, misses and reaps are read at scrape time, labelled with its key", async () => {
    const pools = [{ key: "base container memory=512Mi cpus=1 pids=1024 disk=4Gi network=none", size: 2, ready: 1, hits: 5, misses: 2, reaped: 1 }];
    const metrics = await createMetrics({ states: STATES, countByState: () => ({}), warmPools: () => pools, processMetrics: false });
    const { body } = await metrics.text();
    const label = `pool="${pools[0]!.key}"`;
    assert.equal(valueOf(body, `agentiso_warm_pool_size{${label}}`), 2);
    assert.equal(valueOf(body, `agentiso_warm_pool_ready{${label}}`), 1);
    assert.equal(valueOf(body, `agentiso_warm_pool_creates_total{${label},result="hit"}`), 5);
    assert.equal(valueOf(body, `agentiso_warm_pool_creates_total{${label},result="miss"}`), 2);
    assert.equal(valueOf(body, `agentiso_warm_pool_reaped_total{${label}}`), 1);
  });

  test("no label value is ever an id, a session or a message", async () => {
    const { body } = await (await sampleMetrics()).text();
    const labelValues = [...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => `${m[1]}=${m[2]}`);
    for (const value of labelValues) assert.doesNotMatch(value, /s1|0a1b2c|no workspace/);
    const labelNames = new Set([...body.matchAll(/[{,](\w+)="/g)].map((m) => m[1]));
    for (const name of labelNames) assert.ok(["state", "runtime", "operation", "code", "outcome", "tool", "le", "version", "major", "minor", "patch", "type", "space", "kind", "status", "action", "reason"].includes(name!), `unexpected label ${name}`);
  });

  test("port-forward bytes (both ways) and open connections are read per workspace at each scrape, and vanish with the workspace", async () => {
    let traffic = [
      { workspace: "web", bytesToWorkspace: 120, bytesFromWorkspace: 4096, openConnections: 2 },
      { workspace: "api", bytesToWorkspace: 0, bytesFromWorkspace: 0, openConnections: 0 },
    ];
    const metrics = await createMetrics({ states: STATES, countByState: () => ({}), portForwardTraffic: () => traffic, processMetrics: false });
    const first = (await metrics.text()).body;
    assert.equal(valueOf(first, 'agentiso_port_forward_bytes_total{workspace="web",direction="to_workspace"}'), 120);
    assert.equal(valueOf(first, 'agentiso_port_forward_bytes_total{workspace="web",direction="from_workspace"}'), 4096);
    assert.equal(valueOf(first, 'agentiso_port_forward_connections{workspace="web"}'), 2);
    assert.equal(valueOf(first, 'agentiso_port_forward_connections{workspace="api"}'), 0);
    traffic = [{ workspace: "api", bytesToWorkspace: 10, bytesFromWorkspace: 20, openConnections: 1 }];
    const second = (await metrics.text()).body;
    assert.equal(valueOf(second, 'agentiso_port_forward_bytes_total{workspace="api",direction="from_workspace"}'), 20);
    assert.doesNotMatch(second, /workspace="web"/, "a destroyed workspace's series are gone");
    if (hasCommand("promtool")[0]) {
      const result = await runCommand(["promtool", "check", "metrics"], { input: second, check: false });
      assert.equal(result.exitCode, 0, result.stdout + result.stderr);
    }
  });

  test("the exposition text passes promtool check metrics", { skip: requires(hasCommand("promtool")) }, async () => {
    const { body } = await (await sampleMetrics()).text();
    const result = await runCommand(["promtool", "check", "metrics"], { input: body, check: false });
    assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  });

  test("the metrics server answers GET /metrics on a free loopback port and 404 elsewhere", async () => {
    await using server = await startMetricsServer(await sampleMetrics(), { host: "127.0.0.1", port: 0 }, silentLogger);
    assert.equal(server.address.address, "127.0.0.1");
    const response = await fetch(`http://127.0.0.1:${server.address.port}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.match(await response.text(), /^# HELP agentiso_/m);
    assert.equal((await fetch(`http://127.0.0.1:${server.address.port}/`)).status, 404);
  });

  test("listen addresses: a bare port means loopback, host:port and [v6]:port parse, garbage says what is expected", () => {
    assert.deepEqual(parseListenAddress("9464", "x"), { host: "127.0.0.1", port: 9464 });
    assert.deepEqual(parseListenAddress("0.0.0.0:80", "x"), { host: "0.0.0.0", port: 80 });
    assert.deepEqual(parseListenAddress("[::1]:0", "x"), { host: "::1", port: 0 });
    assert.throws(() => parseListenAddress("localhost:99999", "daemon.metricsListen"), /daemon.metricsListen "localhost:99999" is not host:port/);
    assert.throws(() => parseListenAddress("a:b", "x"), /not host:port/);
  });
});

