// MCP over Streamable HTTP served by the daemon: every tool on the unix socket, then the TCP
// listener (bearer token), the X-Agentiso-Session identity and the per-session rate limits.
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
    writeFileSync(join(cli.home, "config.toml"), "[limits.create]\nperMinute = 1\nburst = 1\n");
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

  test("the same X-Agentiso-Session header is the same owner over TCP and the unix socket; another identity sees nothing", async () => {
    await using tcp = await tcpHttpClient(port, token, "team-a");
    assert.ok((await tcp.client.listTools()).tools.length >= 25);
    const ws = await tcp.call<{ id: string; name: string }>("workspace_create", { name: "shared-a", image: "base", memory: "128M" });
    try {
      await using sameOwner = await unixHttpClient(join(cli.home, "agentiso.sock"), "team-a");
      assert.deepEqual((await sameOwner.call<Array<{ id: string }>>("workspace_list")).map((w) => w.id), [ws.id]);
      await using stranger = await unixHttpClient(join(cli.home, "agentiso.sock"));
      assert.deepEqual(await stranger.call("workspace_list"), []);
      assert.equal((await stranger.fails("exec", { workspace: ws.name, command: "true" })).code, "NOT_FOUND");
    } finally {
      await tcp.call("workspace_destroy", { workspace: ws.id });
    }
  });

  test("a session over its create limit gets QUOTA_EXCEEDED saying when to retry; other sessions and categories are unaffected", async () => {
    await using limited = await tcpHttpClient(port, token, "team-b");
    const ws = await limited.call<{ id: string }>("workspace_create", { name: "limited-b", image: "base", memory: "128M" });
    try {
      const refused = await limited.fails("workspace_create", { name: "limited-b2", image: "base" });
      assert.equal(refused.code, "QUOTA_EXCEEDED");
      assert.match(refused.text, /rate limit for create tools .* retry workspace_create in \d+(\.\d)? s/);
      assert.equal((await limited.call<{ stdout: string }>("exec", { workspace: ws.id, command: "echo still fine" })).stdout, "still fine\n");
      assert.deepEqual((await cli.json<Array<{ name: string }>>(["ws", "ls"])).map((w) => w.name), ["limited-b"]);
    } finally {
      await limited.call("workspace_destroy", { workspace: ws.id });
    }
  });
});
