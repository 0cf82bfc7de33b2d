// Exposed ports end to end: a dev server (node's http module: the base image has node, not
// python) in a container workspace and in a microVM under TCG, opened from this test process
// through `agentiso ws port` and through MCP's port_forward (the official SDK client). The
// forwards listen again after `daemon stop` and a new daemon, and after a workspace stop/start;
// destroying a workspace frees its host port. One daemon, one container, one VM for the file.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Server } from "node:net";
import { once } from "node:events";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, requires } from "../support/prereq.js";
import { stdioClient, type McpTestClient } from "./mcp-clients.js";
import { realDaemonSkip } from "./mcp-tool-suite.js";

const vmSkip = realDaemonSkip || requires(hasCommand("qemu-system-x86_64"), hasCommand("mkfs.ext4"));

interface Forward {
  workspace: string;
  guestPort: number;
  hostPort: number;
  address: string;
  active: boolean;
  bytesFromWorkspace: number;
}

const SERVER = `require("http").createServer((q, s) => s.end("hello from " + require("os").hostname() + " " + q.url)).listen(3000)`;
const WAIT_READY = "for i in $(seq 600); do curl -fsS -o /dev/null http://127.0.0.1:3000/ && exit 0; sleep 0.1; done; exit 1";

// GET http://127.0.0.1:PORT/PATH from this process; the text of the answer.
async function get(port: number, path = "/"): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  assert.equal(response.status, 200);
  return response.text();
}

// Whether a connection to 127.0.0.1:port is accepted (false: refused, nothing listens).
async function accepts(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/`).then(
    () => true,
    () => false,
  );
}

// Listens on 127.0.0.1:port (fails if the port is still held) and closes again.
async function listenAndClose(port: number): Promise<void> {
  const server: Server = createServer();
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe("exposed ports: ws port and port_forward", { skip: realDaemonSkip, timeout: 1_200_000 }, () => {
  let cli: CliHarness;
  const forwards: Record<string, number> = {};

  // Starts the dev server in a workspace as a background job and waits until it answers inside.
  async function startDevServer(workspace: string): Promise<void> {
    await cli.ok(["op", "exec_background", "--input", JSON.stringify({ workspace, action: "start", argv: ["node", "-e", SERVER] })]);
    await cli.ok(["ws", "exec", workspace, "--", "sh", "-c", WAIT_READY]);
  }

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness({ AGENTISO_VM_ACCEL: "tcg", AGENTISO_METRICS_LISTEN: "127.0.0.1:0" });
    await cli.ok(["init", "--pool-size", "8G"]);
  });
  after(async () => {
    await cli?.[Symbol.asyncDispose]();
  });

  test("a dev server in a container opens from the host on a free loopback port; ls, info and /metrics show the forward", async () => {
    await cli.ok(["ws", "create", "--name", "web", "--runtime", "container", "--memory", "256M"]);
    await startDevServer("web");
    const forward = await cli.json<Forward & { bind: string; public: boolean }>(["ws", "port", "web", "3000"]);
    assert.deepEqual([forward.bind, forward.public, forward.active], ["127.0.0.1", false, true]);
    assert.equal(forward.address, `127.0.0.1:${forward.hostPort}`);
    assert.equal(await get(forward.hostPort, "/from-the-host"), "hello from web /from-the-host");
    forwards.web = forward.hostPort;
    const again = await cli.json<Forward>(["ws", "port", "web", "3000", "--host-port", String(forward.hostPort)]);
    assert.equal(again.hostPort, forward.hostPort, "the same forward asked again");
    const listed = await cli.json<Forward[]>(["ws", "port", "ls", "web"]);
    assert.deepEqual(listed.map((f) => [f.guestPort, f.hostPort, f.active]), [[3000, forward.hostPort, true]]);
    assert.ok(listed[0]!.bytesFromWorkspace > 0);
    assert.match(await cli.ok(["ws", "port", "ls", "web"]), new RegExp(`3000\\s+127\\.0\\.0\\.1:${forward.hostPort}\\s+yes`));
    const info = await cli.json<{ ports: Forward[] }>(["ws", "info", "web"]);
    assert.deepEqual(info.ports.map((f) => f.hostPort), [forward.hostPort]);
    const held = connect({ host: "127.0.0.1", port: forward.hostPort });
    await once(held, "connect");
    try {
      const status = await cli.json<{ metrics: { host: string; port: number } }>(["daemon", "status"]);
      const metrics = await (await fetch(`http://${status.metrics.host}:${status.metrics.port}/metrics`)).text();
      const fromWeb = /^agentiso_port_forward_bytes_total\{workspace="web",direction="from_workspace"\} (\d+)$/m.exec(metrics);
      assert.ok(fromWeb && Number(fromWeb[1]) > 0, "bytes from the workspace are counted");
      const open = /^agentiso_port_forward_connections\{workspace="web"\} (\d+)$/m.exec(metrics);
      assert.ok(open && Number(open[1]) >= 1, "the connection held open is counted");
    } finally {
      held.destroy();
    }
  });

  test("a host port in use is a CONFLICT, and a non-loopback bind needs --public", async () => {
    const squatter = createServer();
    squatter.listen(0, "127.0.0.1");
    await once(squatter, "listening");
    try {
      const taken = (squatter.address() as { port: number }).port;
      const conflict = await cli.run(["ws", "port", "web", "3001", "--host-port", String(taken)]);
      assert.equal(conflict.code, 5, conflict.stderr);
      assert.match(conflict.stderr, new RegExp(`127\\.0\\.0\\.1:${taken} is in use`));
    } finally {
      squatter.close();
    }
    const wide = await cli.run(["ws", "port", "web", "3001", "--bind", "0.0.0.0"]);
    assert.equal(wide.code, 2, wide.stderr);
    assert.match(wide.stderr, /exposes the workspace's port.*--public/);
    assert.deepEqual((await cli.json<Forward[]>(["ws", "port", "ls", "web"])).map((f) => f.guestPort), [3000], "nothing refused was stored");
  });

  test("a dev server in a microVM (TCG, no network device) opens from the host the same way", { skip: vmSkip }, async () => {
    await cli.ok(["ws", "create", "--name", "box", "--runtime", "vm", "--memory", "512M"]);
    await startDevServer("box");
    const forward = await cli.json<Forward>(["ws", "port", "box", "3000"]);
    assert.equal(await get(forward.hostPort, "/vm"), "hello from box /vm");
    forwards.box = forward.hostPort;
  });

  test("after daemon stop the ports are closed; a new daemon (started by any CLI call) listens on them again", async () => {
    await cli.ok(["daemon", "stop"]);
    for (const port of Object.values(forwards)) assert.equal(await accepts(port), false, `port ${port} closed with the daemon`);
    const listed = await cli.json<Forward[]>(["ws", "port", "ls", "web"]); // starts a new daemon
    assert.deepEqual(listed.map((f) => [f.hostPort, f.active]), [[forwards.web, true]]);
    assert.equal(await get(forwards.web!, "/after-restart"), "hello from web /after-restart");
    if (forwards.box !== undefined) assert.equal(await get(forwards.box, "/after-restart"), "hello from box /after-restart");
  });

  test("a stopped workspace keeps its forward closed; start opens the same host port again", async () => {
    await cli.ok(["ws", "stop", "web"]);
    assert.equal(await accepts(forwards.web!), false);
    assert.deepEqual((await cli.json<Forward[]>(["ws", "port", "ls", "web"])).map((f) => [f.hostPort, f.active]), [[forwards.web, false]]);
    await cli.ok(["ws", "start", "web"]);
    await startDevServer("web"); // the server was a process of the stopped workspace
    assert.equal(await get(forwards.web!, "/after-start"), "hello from web /after-start");
  });

  test("port_forward over MCP: add (free port), list and remove for the session's own workspace; another session sees none of it", async () => {
    await using mcp: McpTestClient = await stdioClient(cli, "hpt-owner");
    await using other: McpTestClient = await stdioClient(cli, "hpt-other");
    await mcp.call("workspace_create", { name: "mcp-web", image: "base", memory: "256M" });
    await mcp.call("exec_background", { workspace: "mcp-web", action: "start", argv: ["node", "-e", SERVER] });
    assert.equal((await mcp.call<{ exitCode: number }>("exec", { workspace: "mcp-web", command: WAIT_READY })).exitCode, 0);
    const forward = await mcp.call<Forward>("port_forward", { workspace: "mcp-web", action: "add", guestPort: 3000 });
    assert.equal(await get(forward.hostPort, "/mcp"), "hello from mcp-web /mcp");
    assert.deepEqual((await mcp.call<Forward[]>("port_forward", { workspace: "mcp-web", action: "list" })).map((f) => f.hostPort), [forward.hostPort]);
    assert.equal((await other.fails("port_forward", { workspace: "mcp-web", action: "list" })).code, "NOT_FOUND");
    assert.equal((await other.fails("port_forward", { workspace: "mcp-web", action: "remove", guestPort: 3000 })).code, "NOT_FOUND");
    assert.equal((await mcp.fails("port_forward", { workspace: "mcp-web", action: "add", guestPort: 3001, bind: "0.0.0.0", public: true })).code, "PERMISSION_DENIED");
    assert.deepEqual(await mcp.call("port_forward", { workspace: "mcp-web", action: "remove", guestPort: 3000 }), { removed: 3000, workspace: "mcp-web" });
    await listenAndClose(forward.hostPort);
    await mcp.call("workspace_destroy", { workspace: "mcp-web" });
  });

  test("destroying a workspace frees its host port: a listen on it succeeds after", async () => {
    for (const [workspace, port] of Object.entries(forwards)) {
      await cli.ok(["ws", "destroy", workspace]);
      await listenAndClose(port);
    }
  });
});
