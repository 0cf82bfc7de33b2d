// Port forwards in the engine (src/engine/port-forwards.ts) and the port_forward operation, over
// fake storage and runtime. The fake guest's tunnel dials the port on the host's own loopback,
// where each test runs a small server standing in for the workspace's dev server. The real
// agent, runc and QEMU are covered by test/integration/port-forward.test.ts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.js";
import type { GuestClient } from "../../src/guest/guest-client.js";
import { silentLogger } from "../../src/core/logger.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { MAX_PORT_FORWARDS } from "../../src/core/limits.js";
import { parseInput } from "../../src/contract/contract.js";
import type { OperationContext } from "../../src/operations/operation.js";
import { OPERATIONS } from "../../src/operations/registry.js";
import { FakeStorage } from "../support/fake-storage.js";
import { FakeRuntime } from "../support/fake-runtime.js";
import { ENGINE_TEST_DEFAULTS, fakeEngineDeps } from "../support/fake-engine-deps.js";


function makeDeps(stateDir: string, storage: FakeStorage, runtime: FakeRuntime) {
  return fakeEngineDeps(stateDir, storage, runtime, {
    guests: {
      connect: async () => ({ close: async () => {} }),
      syncDisk: async () => {},
      setHostname: async () => {},
      // the "workspace's loopback" of this fake is the host's
      openTunnel: async (_guest, port) => {
        const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
        await Promise.race([once(socket, "connect"), once(socket, "error").then(([err]) => Promise.reject(err as Error))]);
        return socket;
      },
    },
  });
}

interface Rig {
  engine: Engine;
  reopen(): Promise<Engine>;
}

async function withEngine(fn: (rig: Rig) => Promise<void>): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "hpt-engine-ports-"));
  const storage = new FakeStorage();
  const runtime = new FakeRuntime();
  const rig: Rig = {
    engine: (await Engine.open(makeDeps(stateDir, storage, runtime), ENGINE_TEST_DEFAULTS)).engine,
    async reopen() {
      await rig.engine.close();
      rig.engine = (await Engine.open(makeDeps(stateDir, storage, runtime), ENGINE_TEST_DEFAULTS)).engine;
      return rig.engine;
    },
  };
  try {
    await fn(rig);
  } finally {
    await rig.engine.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

// The workspace's dev server: answers "hello from PORT" and closes.
async function devServer(): Promise<{ port: number } & AsyncDisposable> {
  const server = createServer((socket) => socket.end(`hello from ${(server.address() as { port: number }).port}`));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { port: (server.address() as { port: number }).port, [Symbol.asyncDispose]: () => closeServer(server) };
}

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

async function fetchText(port: number): Promise<string> {
  const socket = connect({ host: "127.0.0.1", port });
  let text = "";
  for await (const chunk of socket) text += String(chunk);
  return text;
}

// Whether something listens on 127.0.0.1:port (a connect is refused otherwise).
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

// Waits until the listener side has seen every connection close (it learns a moment after the client).
async function settled(engine: Engine): Promise<void> {
  while (engine.ports.trafficByWorkspace().some((t) => t.openConnections > 0)) await new Promise((resolve) => setTimeout(resolve, 5));
}

// Proves a port is free by listening on it.
async function listenOn(port: number): Promise<Server> {
  const server = createServer();
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return server;
}

const rejectsWith = (code: string, pattern?: RegExp) => (err: unknown) => isAgentisoError(err, code as never) && (!pattern || pattern.test(err.message));

describe("port forwards in the engine", () => {
  test("a free host port is picked, reaches the workspace's port, and the same request again answers the same forward", () =>
    withEngine(async ({ engine }) => {
      await using dev = await devServer();
      await engine.workspaces.create({ name: "web" });
      const forward = await engine.ports.add("web", { guestPort: dev.port });
      assert.ok(forward.hostPort >= 1024);
      assert.deepEqual([forward.bind, forward.address, forward.public, forward.active], ["127.0.0.1", `127.0.0.1:${forward.hostPort}`, false, true]);
      assert.equal(await fetchText(forward.hostPort), `hello from ${dev.port}`);
      const again = await engine.ports.add("web", { guestPort: dev.port, hostPort: 0 });
      assert.equal(again.hostPort, forward.hostPort);
      assert.equal(again.bytesFromWorkspace, `hello from ${dev.port}`.length);
      await assert.rejects(engine.ports.add("web", { guestPort: dev.port, hostPort: forward.hostPort === 65535 ? 65534 : forward.hostPort + 1 }), rejectsWith("CONFLICT", /already forwarded/));
      await settled(engine);
      assert.deepEqual(engine.ports.trafficByWorkspace(), [{ workspace: "web", bytesToWorkspace: 0, bytesFromWorkspace: again.bytesFromWorkspace, openConnections: 0 }]);
    }));

  test("a host port in use is CONFLICT, a bind that is no IP is INVALID_INPUT, and a workspace forwards at most MAX_PORT_FORWARDS ports", () =>
    withEngine(async ({ engine }) => {
      const taken = await listenOn(0);
      try {
        await engine.workspaces.create({ name: "web" });
        await assert.rejects(engine.ports.add("web", { guestPort: 3000, hostPort: (taken.address() as { port: number }).port }), rejectsWith("CONFLICT", /in use/));
        await assert.rejects(engine.ports.add("web", { guestPort: 3000, bindAddress: "localhost" }), rejectsWith("INVALID_INPUT"));
        assert.deepEqual(engine.ports.list("web"), [], "a refused forward is not stored");
        for (let port = 1; port <= MAX_PORT_FORWARDS; port++) await engine.ports.add("web", { guestPort: port });
        await assert.rejects(engine.ports.add("web", { guestPort: 9999 }), rejectsWith("QUOTA_EXCEEDED"));
      } finally {
        await closeServer(taken);
      }
    }));

  test("stop closes the listener and keeps the forward; start opens the same host port again, or says why it cannot", () =>
    withEngine(async ({ engine }) => {
      await using dev = await devServer();
      await engine.workspaces.create({ name: "web" });
      const { hostPort } = await engine.ports.add("web", { guestPort: dev.port });
      await engine.workspaces.stop("web");
      assert.equal(await listening(hostPort), false);
      assert.deepEqual(engine.ports.list("web").map((f) => [f.hostPort, f.active, f.error]), [[hostPort, false, undefined]]);
      await assert.rejects(engine.ports.add("other-not-there", { guestPort: 1 }), rejectsWith("NOT_FOUND"));
      await engine.workspaces.start("web");
      assert.equal(await fetchText(hostPort), `hello from ${dev.port}`);
      // someone else takes the host port while the workspace is stopped
      await engine.workspaces.stop("web");
      const squatter = await listenOn(hostPort);
      await engine.workspaces.start("web");
      const [failed] = engine.ports.list("web");
      assert.equal(failed!.active, false);
      assert.match(failed!.error ?? "", /in use/);
      await closeServer(squatter);
      await engine.workspaces.stop("web");
      await engine.workspaces.start("web");
      assert.equal(await fetchText(hostPort), `hello from ${dev.port}`);
    }));

  test("a stopped workspace's host port stays reserved for it: another workspace asking for it gets CONFLICT", () =>
    withEngine(async ({ engine }) => {
      await engine.workspaces.create({ name: "a" });
      await engine.workspaces.create({ name: "b" });
      const { hostPort } = await engine.ports.add("a", { guestPort: 3000 });
      await engine.workspaces.stop("a");
      await assert.rejects(engine.ports.add("b", { guestPort: 3000, hostPort }), rejectsWith("CONFLICT", /held by another forward/));
      assert.equal(await listening(hostPort), false, "the refused listener was closed again");
    }));

  test("after the engine closes and a new one opens, the forwards of adopted workspaces listen again", () =>
    withEngine(async (rig) => {
      await using dev = await devServer();
      await rig.engine.workspaces.create({ name: "web" });
      const { hostPort } = await rig.engine.ports.add("web", { guestPort: dev.port });
      await rig.engine.close();
      assert.equal(await listening(hostPort), false, "a closed engine holds no host port");
      const engine = await rig.reopen();
      assert.equal(await fetchText(hostPort), `hello from ${dev.port}`);
      assert.equal(engine.ports.list("web")[0]!.active, true);
    }));

  test("remove and destroy free the host port; destroy drops the forwards and their traffic series", () =>
    withEngine(async ({ engine }) => {
      await using dev = await devServer();
      await engine.workspaces.create({ name: "web" });
      const first = await engine.ports.add("web", { guestPort: dev.port });
      await engine.ports.remove("web", dev.port);
      await closeServer(await listenOn(first.hostPort));
      await assert.rejects(engine.ports.remove("web", dev.port), rejectsWith("NOT_FOUND", /not forwarded/));
      const second = await engine.ports.add("web", { guestPort: dev.port });
      assert.equal(await fetchText(second.hostPort), `hello from ${dev.port}`);
      await engine.workspaces.destroy("web");
      await closeServer(await listenOn(second.hostPort));
      assert.deepEqual(engine.ports.trafficByWorkspace(), []);
      await engine.workspaces.create({ name: "web" });
      assert.deepEqual(engine.ports.list("web"), [], "a new workspace of the same name has none of the old forwards");
    }));
});

describe("the port_forward operation", () => {
  const run = async (engine: Engine, session: string | undefined, args: Record<string, unknown>, sessionPublicPorts = false) => {
    const operation = OPERATIONS.find((op) => op.name === "port_forward")!;
    const services = { engine: engine as unknown as Engine<GuestClient>, transferDir: "/nonexistent", sessionPublicPorts };
    const ctx: OperationContext = { services, signal: AbortSignal.timeout(10_000), logger: silentLogger, ...(session !== undefined && { session }) };
    return operation.run(ctx, parseInput(operation, args));
  };

  test("a non-loopback bind needs public: true, and from a session the operator's consent too", () =>
    withEngine(async ({ engine }) => {
      await engine.workspaces.create({ name: "mine", owner: "s1" });
      const wide = { workspace: "mine", action: "add", guestPort: 3000, bind: "0.0.0.0" };
      await assert.rejects(run(engine, undefined, wide), rejectsWith("INVALID_INPUT", /public: true/));
      await assert.rejects(run(engine, "s1", { ...wide, public: true }), rejectsWith("PERMISSION_DENIED", /sessionPublicPorts/));
      const forward = (await run(engine, "s1", { ...wide, public: true }, true)) as { public: boolean; bind: string };
      assert.deepEqual([forward.bind, forward.public], ["0.0.0.0", true]);
      await run(engine, undefined, { workspace: "mine", action: "remove", guestPort: 3000 });
      const local = (await run(engine, "s1", { workspace: "mine", action: "add", guestPort: 3000, bind: "127.0.0.2" })) as { public: boolean };
      assert.equal(local.public, false, "any loopback address needs no consent");
      await assert.rejects(run(engine, "s1", { workspace: "mine", action: "add", guestPort: 3001, hostPort: 80 }), rejectsWith("INVALID_INPUT", /1024-65535/));
      await assert.rejects(run(engine, "s1", { workspace: "mine", action: "add" }), rejectsWith("INVALID_INPUT", /needs guestPort/));
      const listed = (await run(engine, "s1", { workspace: "mine", action: "list" })) as unknown[];
      assert.equal(listed.length, 1);
      await assert.rejects(run(engine, "s2", { workspace: "mine", action: "list" }), rejectsWith("NOT_FOUND"), "another session sees none of it");
    }));
});
