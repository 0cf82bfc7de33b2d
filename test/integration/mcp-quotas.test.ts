// Quotas against the real daemon, through the official MCP SDK client on the daemon's unix
// socket (the host's own sessions: [quotas.hostSession]) and the CLI (the operator: only the
// host's [quotas.global]). Each limit is crossed once and answered QUOTA_EXCEEDED with the
// limit, what is in use and what the call asked for; a slow exec holds its slot until it ends.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { delay } from "../../src/core/deadline.js";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { unixHttpClient, type McpTestClient } from "./mcp-clients.js";
import { realDaemonSkip } from "./mcp-tool-suite.js";

const QUOTAS = `
[quotas.global]
maxWorkspaces = 4
maxDisk = "20G"
[quotas.hostSession]
maxWorkspaces = 2
maxMemory = "384M"
maxDisk = "6G"
maxConcurrentExecs = 1
`;

describe("quotas per session and for the host: workspaces, memory, disk, concurrent execs", { skip: realDaemonSkip, timeout: 600_000 }, () => {
  const tag = randomBytes(3).toString("hex");
  let cli: CliHarness;
  let a: McpTestClient;
  let b: McpTestClient;
  const name = (n: string) => `q${tag}-${n}`;

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness();
    writeFileSync(join(cli.home, "config.toml"), QUOTAS);
    await cli.ok(["init", "--pool-size", "8G"]);
    await cli.ok(["daemon"]);
    a = await unixHttpClient(join(cli.home, "agentiso.sock"), `qa-${tag}`);
    b = await unixHttpClient(join(cli.home, "agentiso.sock"), `qb-${tag}`);
  });
  after(async () => {
    await a?.[Symbol.asyncDispose]();
    await b?.[Symbol.asyncDispose]();
    await cli?.[Symbol.asyncDispose]();
  });

  test("a session past its memory quota, then past its workspace quota, is refused with the numbers; nothing is created", async () => {
    await a.call("workspace_create", { name: name("a1"), image: "base", memory: "256M", disk: "2G" });
    const memory = await a.fails("workspace_create", { name: name("a2"), image: "base", memory: "256M" });
    assert.equal(memory.code, "QUOTA_EXCEEDED");
    assert.match(memory.text, new RegExp(`memory quota of session qa-${tag}: limit 384 MiB, in use 256 MiB \\(counting those being created\\), this call asks for 256 MiB`));
    await a.call("workspace_create", { name: name("a2"), image: "base", memory: "128M", disk: "2G" });
    const count = await a.fails("workspace_create", { name: name("a3"), image: "base", memory: "16M" });
    assert.match(count.text, new RegExp(`^QUOTA_EXCEEDED: workspaces quota of session qa-${tag}: limit 2, in use 2 \\(counting those being created\\), this call asks for 1`));
    assert.match((await a.fails("workspace_fork", { workspace: name("a1"), snapshot: "none", count: 2 })).text, /workspaces quota of session .*limit 2, in use 2 .*asks for 2/);
    assert.deepEqual((await a.call<Array<{ name: string }>>("workspace_list")).map((w) => w.name).sort(), [name("a1"), name("a2")]);
  });

  test("a session past its disk quota (the sum of its workspaces' disk limits) is refused", async () => {
    await b.call("workspace_create", { name: name("b1"), image: "base", memory: "128M", disk: "4G" });
    const disk = await b.fails("workspace_create", { name: name("b2"), image: "base", memory: "128M", disk: "4G" });
    assert.match(disk.text, new RegExp(`^QUOTA_EXCEEDED: disk quota of session qb-${tag}: limit 6144 MiB, in use 4096 MiB \\(counting those being created\\), this call asks for 4096 MiB`));
  });

  test("the host's quotas count every session's workspaces and the operator's, and refuse the CLI too", async () => {
    const c1 = await cli.json<{ id: string }>(["ws", "create", "--name", name("c1"), "--memory", "128M", "--disk", "1G"]);
    try {
      await using c = await unixHttpClient(join(cli.home, "agentiso.sock"), `qc-${tag}`);
      const host = await c.fails("workspace_create", { image: "base", memory: "64M" });
      assert.match(host.text, /^QUOTA_EXCEEDED: workspaces quota of the host: limit 4, in use 4 \(counting those being created\), this call asks for 1/);
      const cliRefused = await cli.run(["ws", "create", "--memory", "64M"]);
      assert.equal(cliRefused.code, 9);
      assert.match(cliRefused.stderr, /workspaces quota of the host: limit 4, in use 4/);
    } finally {
      await cli.ok(["ws", "destroy", c1.id]);
    }
    const disk = await cli.run(["ws", "create", "--memory", "64M", "--disk", "16G"]);
    assert.equal(disk.code, 9);
    assert.match(disk.stderr, /disk quota of the host: limit 20480 MiB, in use 8192 MiB \(counting those being created\), this call asks for 16384 MiB/);
  });

  test("a slow exec holds the session's one exec slot: a second exec and exec_parallel are refused until it returns; other sessions and tools go on", async () => {
    const ws = name("a1");
    const slow = a.call<{ exitCode: number }>("exec", { workspace: ws, command: "touch /tmp/started; sleep 3" });
    for (let polls = 0; ; polls++) {
      // file_stat is no exec: it is answered while the slot is held
      const started = await a.client.callTool({ name: "file_stat", arguments: { workspace: ws, path: "/tmp/started" } });
      if (!started.isError) break;
      assert.ok(polls < 100, "the slow exec never started");
      await delay(25);
    }
    const second = await a.fails("exec", { workspace: ws, command: "true" });
    assert.match(second.text, new RegExp(`^QUOTA_EXCEEDED: concurrent execs quota of session qa-${tag}: limit 1, in use 1 \\(running now\\), this call asks for 1: wait for a running command to finish`));
    assert.match((await a.fails("exec_parallel", { workspaces: [ws, name("a2")], command: "true" })).text, /concurrent execs quota .*limit 1, in use 1 .*asks for 2/);
    assert.equal((await b.call<{ stdout: string }>("exec", { workspace: name("b1"), command: "echo other session" })).stdout, "other session\n");
    assert.equal((await a.call<{ content: string }>("file_read", { workspace: ws, path: "/tmp/started" })).content, "");
    assert.equal((await slow).exitCode, 0);
    assert.equal((await a.call<{ stdout: string }>("exec", { workspace: ws, command: "echo free again" })).stdout, "free again\n");
  });

  test("destroying workspaces gives their quota back", async () => {
    for (const ws of [name("a1"), name("a2")]) await a.call("workspace_destroy", { workspace: ws });
    await b.call("workspace_destroy", { workspace: name("b1") });
    const again = await a.call<{ name: string }>("workspace_create", { name: name("a4"), image: "base", memory: "256M" });
    await a.call("workspace_destroy", { workspace: again.name });
  });
});
