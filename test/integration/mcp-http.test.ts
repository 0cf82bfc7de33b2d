// MCP over Streamable HTTP served by the daemon: every tool on the unix socket, then the TCP
// listener (bearer token), the X-Agentiso-Session identity and the rate limits; then two
// clients with their own tokens: sessions, rate limits and caps bound to the credential.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { tcpHttpClient, unixHttpClient } from "./mcp-clients.js";
import { describeToolSuite, realDaemonSkip } from "./mcp-tool-suite.js";

describeToolSuite("MCP over Streamable HTTP on the daemon's unix socket", async (cli, session) => {
  await cli.ok(["daemon"]); // the socket exists once the daemon runs
  return unixHttpClient(join(cli.home, "agentiso.sock"), session);
});

describe("MCP over TCP with a bearer token, session identity and rate limits", { skip: realDaemonSkip, timeout: 600_000 }, () => {
  const token = randomBytes(24).toString("hex");
  let cli: CliHarness;
  let port: number;

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness({ AGENTISO_MCP_LISTEN: "127.0.0.1:0", AGENTISO_MCP_TOKEN: token });
    writeFileSync(join(cli.home, "config.toml"), "[limits.create]\nperMinute = 0.1\nburst = 2\n");
    await cli.ok(["init", "--pool-size", "8G"]);
    await cli.ok(["daemon"]);
    port = (await cli.json<{ mcpPort: number }>(["daemon", "status"])).mcpPort;
  });
  after(async () => {
    await cli?.[Symbol.asyncDispose]();
  });

  test("requests without the bearer token or with a wrong one are refused with 401", async () => {
    const initialize = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    assert.equal((await fetch(`http://127.0.0.1:${port}/mcp`, { method: "POST", headers, body: initialize })).status, 401);
    const wrong = await fetch(`http://127.0.0.1:${port}/mcp`, { method: "POST", headers: { ...headers, authorization: "Bearer not-the-token-at-all" }, body: initialize });
    assert.equal(wrong.status, 401);
    await assert.rejects(tcpHttpClient(port, "wrong-token-0123456789"));
  });

  test("the same X-Agentiso-Session header is the same owner across TCP connections, scoped under the token: the unix socket's team-a is another owner", async () => {
    await using tcp = await tcpHttpClient(port, token, "team-a");
    assert.ok((await tcp.client.listTools()).tools.length >= 25);
    const ws = await tcp.call<{ id: string; name: string; owner: string }>("workspace_create", { name: "shared-a", image: "base", memory: "128M" });
    try {
      assert.equal(ws.owner, "default:team-a", "daemon.mcpToken is the client named default");
      await using sameOwner = await tcpHttpClient(port, token, "team-a");
      assert.deepEqual((await sameOwner.call<Array<{ id: string }>>("workspace_list")).map((w) => w.id), [ws.id]);
      await using hostSession = await unixHttpClient(join(cli.home, "agentiso.sock"), "team-a");
      assert.deepEqual(await hostSession.call("workspace_list"), [], "a token holder cannot act as the host's own session of that name");
      await using stranger = await unixHttpClient(join(cli.home, "agentiso.sock"));
      assert.deepEqual(await stranger.call("workspace_list"), []);
      assert.equal((await stranger.fails("exec", { workspace: ws.name, command: "true" })).code, "NOT_FOUND");
    } finally {
      await tcp.call("workspace_destroy", { workspace: ws.id });
    }
  });

  test("a client over its create limit gets QUOTA_EXCEEDED saying when to retry, in every session; other categories and the host's sessions are unaffected", async () => {
    // team-a's create above took 1 of the client's 2 tokens (one comes back in 10 minutes)
    await using limited = await tcpHttpClient(port, token, "team-b");
    const ws = await limited.call<{ id: string }>("workspace_create", { name: "limited-b", image: "base", memory: "128M" });
    try {
      await using otherSession = await tcpHttpClient(port, token, "team-c");
      const refused = await otherSession.fails("workspace_create", { name: "limited-b2", image: "base" });
      assert.equal(refused.code, "QUOTA_EXCEEDED");
      assert.match(refused.text, /rate limit for create tools reached \(0.1 per minute, bursts of 2, per client\): retry workspace_create in \d+(\.\d)? s/);
      await using hostSession = await unixHttpClient(join(cli.home, "agentiso.sock"), "team-c");
      const hostWs = await hostSession.call<{ id: string }>("workspace_create", { name: "host-c", image: "base", memory: "128M" });
      await hostSession.call("workspace_destroy", { workspace: hostWs.id });
      assert.equal((await limited.call<{ stdout: string }>("exec", { workspace: ws.id, command: "echo still fine" })).stdout, "still fine\n");
      assert.deepEqual((await cli.json<Array<{ name: string }>>(["ws", "ls"])).map((w) => w.name), ["limited-b"]);
    } finally {
      await limited.call("workspace_destroy", { workspace: ws.id });
    }
  });
});

describe("two MCP clients over TCP, each with its own token", { skip: realDaemonSkip, timeout: 900_000 }, () => {
  const alice = `alice-${randomBytes(12).toString("hex")}`;
  const bob = `bob-${randomBytes(12).toString("hex")}`;
  let cli: CliHarness;
  let port: number;
  const initialize = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
  const post = (tokenOf: string, headers: Record<string, string> = {}, body = initialize) =>
    fetch(`http://127.0.0.1:${port}/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${tokenOf}`, ...headers }, body });

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness({ AGENTISO_MCP_LISTEN: "127.0.0.1:0" });
    writeFileSync(
      join(cli.home, "config.toml"),
      `[limits.create]\nperMinute = 0.1\nburst = 2\n\n[[daemon.clients]]\nname = "alice"\ntoken = "${alice}"\nmaxSessions = 3\n\n[[daemon.clients]]\nname = "bob"\ntoken = "${bob}"\nmaxWorkspaces = 1\nmaxMemory = "256M"\n`,
    );
    await cli.ok(["init", "--pool-size", "8G"]);
    await cli.ok(["daemon"]);
    port = (await cli.json<{ mcpPort: number }>(["daemon", "status"])).mcpPort;
  });
  after(async () => {
    await cli?.[Symbol.asyncDispose]();
  });

  test("the same session header under two tokens is two owners: neither sees, reaches, adopts or learns the name of the other's workspaces", async () => {
    await using aliceS1 = await tcpHttpClient(port, alice, "s1");
    const ws = await aliceS1.call<{ id: string; name: string; owner: string }>("workspace_create", { name: "alice-ws", image: "base", memory: "128M" });
    await cli.ok(["ws", "create", "--name", "host-ws", "--image", "base", "--memory", "128M"]);
    try {
      assert.equal(ws.owner, "alice:s1");
      await using bobS1 = await tcpHttpClient(port, bob, "s1");
      assert.deepEqual(await bobS1.call("workspace_list"), []);
      const missing = await bobS1.fails("exec", { workspace: "no-such-ws", command: "true" });
      for (const ref of [ws.name, ws.id]) {
        for (const [tool, args] of [["exec", { command: "true" }], ["workspace_info", {}], ["workspace_adopt", {}], ["workspace_destroy", {}]] as const) {
          const refused = await bobS1.fails(tool, { workspace: ref, ...args });
          assert.equal(refused.code, "NOT_FOUND", `${tool} ${ref}`);
          if (tool === "exec") assert.equal(refused.text.replace(ref, "X"), missing.text.replace("no-such-ws", "X"), "another client's workspace reads exactly like none");
        }
      }
      assert.equal((await bobS1.fails("workspace_adopt", { workspace: "host-ws" })).code, "NOT_FOUND", "a client cannot take the operator's workspaces");

      // bob cannot ride on alice's MCP session id either
      const opened = await post(alice, { "x-agentiso-session": "s9" });
      const aliceSessionId = opened.headers.get("mcp-session-id")!;
      await opened.body?.cancel();
      const list = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "workspace_list", arguments: {} } });
      assert.equal((await post(bob, { "mcp-session-id": aliceSessionId, "mcp-protocol-version": "2025-06-18" }, list)).status, 404);
      await fetch(`http://127.0.0.1:${port}/mcp`, { method: "DELETE", headers: { authorization: `Bearer ${alice}`, "mcp-session-id": aliceSessionId } });

      // another session of alice may take it over (a reconnect), and error texts name only its own workspaces
      await using aliceS2 = await tcpHttpClient(port, alice, "s2");
      assert.equal((await aliceS2.call<{ owner: string }>("workspace_adopt", { workspace: ws.name })).owner, "alice:s2");
      await aliceS2.call("snapshot", { workspace: ws.name, action: "create", name: "base" });
      await cli.ok(["ws", "fork", ws.name, "--snapshot", "base", "--name", "root-fork-secret"]);
      const conflict = await aliceS2.fails("workspace_destroy", { workspace: ws.name });
      assert.equal(conflict.code, "CONFLICT");
      assert.match(conflict.text, /workspace alice-ws has forks \(1 workspace outside this session\): destroy them first/);
      assert.doesNotMatch(conflict.text, /root-fork-secret/);
      await cli.ok(["ws", "destroy", "root-fork-secret"]);
    } finally {
      await cli.run(["ws", "destroy", "root-fork-secret"]);
      await cli.ok(["ws", "destroy", ws.id]);
      await cli.ok(["ws", "destroy", "host-ws"]);
    }
  });

  test("rate limits are per client and by cost; caps on workspaces, memory and sessions are per client", async () => {
    // alice spent 1 of her 2 create tokens above (one comes back in 10 minutes): a fresh session
    // has no fresh bucket, and a fork of 2 costs 2
    await using aliceS3 = await tcpHttpClient(port, alice, "s3");
    const fork = await aliceS3.fails("workspace_fork", { workspace: "anything", snapshot: "base", count: 2 });
    assert.equal(fork.code, "QUOTA_EXCEEDED");
    assert.match(fork.text, /rate limit for create tools reached \(0.1 per minute, bursts of 2, per client; this call costs 2\)/);

    await using bobS1 = await tcpHttpClient(port, bob, "s1");
    const tooBig = await bobS1.fails("workspace_create", { image: "base", memory: "512M" });
    assert.equal(tooBig.code, "QUOTA_EXCEEDED");
    assert.match(tooBig.text, /memory quota of client bob: limit 256 MiB, in use 0 MiB \(counting those being created\), this call asks for 512 MiB/);
    const first = await bobS1.call<{ id: string }>("workspace_create", { image: "base", memory: "128M" });
    try {
      await using bobS2 = await tcpHttpClient(port, bob, "s2");
      const second = await bobS2.fails("workspace_create", { image: "base", memory: "64M" });
      assert.equal(second.code, "QUOTA_EXCEEDED");
      assert.match(second.text, /workspaces quota of client bob: limit 1, in use 1 \(counting those being created\), this call asks for 1/);
    } finally {
      await bobS1.call("workspace_destroy", { workspace: first.id });
    }

    await using aliceS4 = await tcpHttpClient(port, alice, "s4");
    await using aliceS5 = await tcpHttpClient(port, alice, "s5");
    const fourth = await post(alice);
    assert.equal(fourth.status, 429, "alice has 3 sessions open (maxSessions 3)");
    assert.match(await fourth.text(), /client alice has 3 MCP sessions open/);
    const bobs = await post(bob);
    assert.equal(bobs.status, 200, "bob's sessions are counted apart");
    await bobs.body?.cancel();
    assert.ok(aliceS4 && aliceS5);
  });
});
