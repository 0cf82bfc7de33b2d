// The daemon's /metrics: promtool accepts it, and a real Prometheus server started here
// scrapes it and answers PromQL with the right workspace count after creates and a destroy.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, requires } from "../support/prereq.js";
import { stdioClient } from "./mcp-clients.js";
import { realDaemonSkip } from "./mcp-tool-suite.js";

const skip = realDaemonSkip || requires(hasCommand("prometheus"), hasCommand("promtool"));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Starts Prometheus scraping target every second; resolves when it logs that it is ready.
async function startPrometheus(dir: string, target: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  writeFileSync(join(dir, "prometheus.yml"), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: agentiso\n    static_configs:\n      - targets: ["${target}"]\n`);
  const child = spawn("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("Server is ready to receive web requests")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`prometheus exited ${code}: ${log.slice(-2000)}`)));
  });
  child.stderr!.resume();
  return { child, url: `http://127.0.0.1:${port}` };
}

// Asks PromQL until the answer equals `expected` (each scrape is a new chance) or the deadline passes.
async function queryUntil(url: string, promql: string, expected: number, deadlineMs = 60_000): Promise<number | undefined> {
  const deadline = Date.now() + deadlineMs;
  let last: number | undefined;
  while (Date.now() < deadline) {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
    last = body.data.result[0] === undefined ? undefined : Number(body.data.result[0].value[1]);
    if (last === expected) return last;
    // The next scrape is at most one scrape_interval away: wait for it by asking again.
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return last;
}

describe("Prometheus metrics of the daemon", { skip, timeout: 600_000 }, () => {
  let cli: CliHarness;
  let metricsUrl: string;
  const promDir = mkdtempSync("/tmp/ais-prom-");
  let prometheus: ChildProcess | undefined;

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness({ AGENTISO_METRICS_LISTEN: "127.0.0.1:0" });
    await cli.ok(["init", "--pool-size", "8G"]);
    await cli.ok(["daemon"]);
    const status = await cli.json<{ metrics: { host: string; port: number } }>(["daemon", "status"]);
    assert.equal(status.metrics.host, "127.0.0.1");
    metricsUrl = `${status.metrics.host}:${status.metrics.port}`;
  });
  after(async () => {
    if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once("exit", resolve));
      process.kill(prometheus.pid, "SIGTERM");
      await exited;
    }
    rmSync(promDir, { recursive: true, force: true });
    await cli?.[Symbol.asyncDispose]();
  });

  test("/metrics passes promtool check metrics and carries every agentiso metric, with no id in any label", async () => {
    await cli.ok(["workspace", "create", "--name", "m-one", "--memory", "128M"]);
    await cli.run(["workspace", "exec", "m-one", "--", "sh", "-c", "exit 3"]);
    const text = await (await fetch(`http://${metricsUrl}/metrics`)).text();
    const lint = await runCommand(["promtool", "check", "metrics"], { input: text, check: false });
    assert.equal(lint.exitCode, 0, lint.stdout + lint.stderr);
    for (const name of ["agentiso_workspaces", "agentiso_boot_duration_seconds", "agentiso_fork_duration_seconds", "agentiso_exec_total", "agentiso_errors_total", "agentiso_tool_calls_total", "process_resident_memory_bytes"]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name);
    }
    assert.match(text, /^agentiso_exec_total\{outcome="nonzero"\} 1$/m);
    assert.match(text, /^agentiso_boot_duration_seconds_count\{runtime="container"\} 1$/m);
    const id = (await cli.json<Array<{ id: string }>>(["ws", "ls"]))[0]!.id;
    assert.ok(!text.includes(id), "no workspace id appears in the metrics");
  });

  test("MCP tool calls are counted by tool and failures by operation and code", async () => {
    await using mcp = await stdioClient(cli, "metrics-check");
    await mcp.call("workspace_list");
    await mcp.call("workspace_list");
    assert.equal((await mcp.fails("workspace_info", { workspace: "ghost" })).code, "NOT_FOUND");
    const text = await (await fetch(`http://${metricsUrl}/metrics`)).text();
    assert.match(text, /^agentiso_tool_calls_total\{tool="workspace_list"\} 2$/m);
    assert.match(text, /^agentiso_errors_total\{operation="workspace_info",code="NOT_FOUND"\} 1$/m);
    assert.doesNotMatch(text, /metrics-check|ghost/, "neither the session nor the argument becomes a label");
  });

  test("a real Prometheus scrapes the daemon and PromQL counts the running workspaces after creates and a destroy", async () => {
    await cli.ok(["workspace", "create", "--name", "m-two", "--memory", "128M"]);
    await cli.ok(["workspace", "create", "--name", "m-three", "--memory", "128M"]);
    await cli.ok(["workspace", "destroy", "m-two"]);
    const started = await startPrometheus(promDir, metricsUrl);
    prometheus = started.child;
    assert.equal(await queryUntil(started.url, 'agentiso_workspaces{state="running"}', 2), 2);
    assert.equal(await queryUntil(started.url, "sum(agentiso_workspaces)", 2), 2);
    assert.equal(await queryUntil(started.url, 'up{job="agentiso"}', 1), 1);
    await cli.ok(["workspace", "destroy", "m-one"]);
    await cli.ok(["workspace", "destroy", "m-three"]);
    assert.equal(await queryUntil(started.url, 'agentiso_workspaces{state="running"}', 0), 0);
  });
});
