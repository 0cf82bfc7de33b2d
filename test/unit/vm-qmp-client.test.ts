// QmpClient against a scripted fake QMP server on a unix socket: greeting and capabilities
// negotiation, replies matched by id whatever their order, events between replies, error
// replies, the socket closing mid-request, garbage lines and a peer that never ends a line.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { QmpClient } from "../../src/runtimes/vm/qmp-client.js";
import { QmpLineReader } from "../../src/runtimes/vm/qmp-lines.js";

const GREETING = { QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 } }, capabilities: [] } };

interface Command {
  execute: string;
  arguments?: Record<string, unknown>;
  id: number;
}

/** The server side of one connection: reads commands, lets the test answer them. */
class FakePeer {
  readonly commands: Command[] = [];
  private buffered = "";
  private waiters: Array<() => void> = [];
  constructor(readonly socket: Socket) {
    socket.on("error", () => {}); // the client may cut a misbehaving peer off
    socket.on("data", (chunk: Buffer) => {
      this.buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = this.buffered.indexOf("\n")) >= 0) {
        this.commands.push(JSON.parse(this.buffered.slice(0, newline)) as Command);
        this.buffered = this.buffered.slice(newline + 1);
        for (const wake of this.waiters.splice(0)) wake();
      }
    });
  }
  async nextCommands(count: number): Promise<Command[]> {
    while (this.commands.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.commands.splice(0, count);
  }
  send(message: unknown): void {
    this.socket.write(typeof message === "string" ? message : JSON.stringify(message) + "\n");
  }
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "ais-qmp-unit-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let serial = 0;
// A listening fake plus a connected client; the fake greets and accepts qmp_capabilities.
async function connected(): Promise<{ client: QmpClient; peer: FakePeer; server: Server } & AsyncDisposable> {
  const path = join(dir, `qmp-${++serial}.sock`);
  const server = createServer();
  server.listen(path);
  await once(server, "listening");
  const peerReady = once(server, "connection").then(async (args) => {
    const peer = new FakePeer(args[0] as Socket);
    peer.send(GREETING);
    const [negotiate] = await peer.nextCommands(1);
    assert.equal(negotiate!.execute, "qmp_capabilities");
    peer.send({ return: {}, id: negotiate!.id });
    return peer;
  });
  const client = await QmpClient.connect(path, { timeoutMs: 5_000 });
  const peer = await peerReady;
  return {
    client,
    peer,
    server,
    [Symbol.asyncDispose]: async () => {
      await client.close();
      server.close();
    },
  };
}

describe("QMP client", () => {
  test("connects after reading the greeting and negotiating capabilities", async () => {
    await using fake = await connected();
    const result = fake.client.execute<{ status: string }>("query-status");
    const [command] = await fake.peer.nextCommands(1);
    assert.equal(command!.execute, "query-status");
    fake.peer.send({ return: { status: "running" }, id: command!.id });
    assert.deepEqual(await result, { status: "running" });
  });

  test("waits for a socket that does not exist yet", async () => {
    const path = join(dir, `late-${++serial}.sock`);
    const connecting = QmpClient.connect(path, { timeoutMs: 5_000 });
    const server = createServer((socket) => {
      const peer = new FakePeer(socket);
      peer.send(GREETING);
      void peer.nextCommands(1).then(([c]) => peer.send({ return: {}, id: c!.id }));
    });
    server.listen(path);
    const client = await connecting;
    await client.close();
    server.close();
  });

  test("connecting to a socket nobody creates times out", async () => {
    await assert.rejects(QmpClient.connect(join(dir, "never.sock"), { timeoutMs: 100 }), (err) => isAgentisoError(err, "TIMEOUT"));
  });

  test("replies are matched by id even when they arrive out of order", async () => {
    await using fake = await connected();
    const first = fake.client.execute("first");
    const second = fake.client.execute("second");
    const [a, b] = await fake.peer.nextCommands(2);
    fake.peer.send({ return: "to-second", id: b!.id });
    fake.peer.send({ return: "to-first", id: a!.id });
    assert.deepEqual(await Promise.all([first, second]), ["to-first", "to-second"]);
  });

  test("events between replies reach listeners and waiters, and the reply still resolves", async () => {
    await using fake = await connected();
    const seen: string[] = [];
    fake.client.onEvent((e) => seen.push(e.event));
    const stop = fake.client.waitForEvent("STOP");
    const migration = fake.client.waitForEvent("MIGRATION", { predicate: (e) => e.data?.status === "completed" });
    const result = fake.client.execute("stop");
    const [command] = await fake.peer.nextCommands(1);
    fake.peer.send({ event: "MIGRATION", data: { status: "active" }, timestamp: { seconds: 1, microseconds: 2 } });
    fake.peer.send({ event: "STOP", timestamp: { seconds: 1, microseconds: 3 } });
    fake.peer.send({ return: {}, id: command!.id });
    fake.peer.send({ event: "MIGRATION", data: { status: "completed" } });
    await result;
    assert.equal((await stop).timestamp?.microseconds, 3);
    assert.equal((await migration).data?.status, "completed");
    assert.deepEqual(seen, ["MIGRATION", "STOP", "MIGRATION"]);
  });

  test("a QMP error reply becomes BACKEND_FAILED with QMP's class and description", async () => {
    await using fake = await connected();
    const result = fake.client.execute("cont");
    const [command] = await fake.peer.nextCommands(1);
    fake.peer.send({ error: { class: "GenericError", desc: "Migration is not finished" }, id: command!.id });
    await assert.rejects(result, (err) => isAgentisoError(err, "BACKEND_FAILED") && err.message.includes("GenericError: Migration is not finished"));
  });

  test("the socket closing mid-request fails pending calls with GUEST_UNREACHABLE, but quit resolves", async () => {
    await using fake = await connected();
    const status = fake.client.execute("query-status");
    const event = fake.client.waitForEvent("SHUTDOWN");
    const quit = fake.client.execute("quit");
    await fake.peer.nextCommands(2);
    fake.peer.socket.destroy();
    await assert.rejects(status, (err) => isAgentisoError(err, "GUEST_UNREACHABLE") && err.message.includes("QMP socket closed"));
    await assert.rejects(event, (err) => isAgentisoError(err, "GUEST_UNREACHABLE"));
    await quit;
    await fake.client.closed;
    await assert.rejects(fake.client.execute("query-status"), (err) => isAgentisoError(err, "GUEST_UNREACHABLE"));
  });

  test("a garbage line is ignored and later replies still resolve", async () => {
    await using fake = await connected();
    const result = fake.client.execute("query-status");
    const [command] = await fake.peer.nextCommands(1);
    fake.peer.send("this is not json\n[1,2]\n");
    fake.peer.send({ return: { status: "paused" }, id: 999 }); // answers nothing we asked
    fake.peer.send({ return: { status: "running" }, id: command!.id });
    assert.deepEqual(await result, { status: "running" });
  });

  test("a peer that never ends its line is cut off instead of growing memory", async () => {
    await using fake = await connected();
    const result = fake.client.execute("query-status");
    await fake.peer.nextCommands(1);
    const chunk = "x".repeat(1024 * 1024);
    for (let i = 0; i < 5 && !fake.peer.socket.destroyed; i++) fake.peer.send(chunk);
    await assert.rejects(result, (err) => isAgentisoError(err, "GUEST_UNREACHABLE"));
    await fake.client.closed;
  });

  test("a request past its deadline is a TIMEOUT and its late reply is ignored", async () => {
    await using fake = await connected();
    await assert.rejects(fake.client.execute("slow", undefined, { timeoutMs: 20 }), (err) => isAgentisoError(err, "TIMEOUT"));
    const [slow] = await fake.peer.nextCommands(1);
    fake.peer.send({ return: {}, id: slow!.id });
    const next = fake.client.execute("query-status");
    const [command] = await fake.peer.nextCommands(1);
    fake.peer.send({ return: 1, id: command!.id });
    assert.equal(await next, 1);
  });

  test("a socket that does not greet like QEMU is refused", async () => {
    const path = join(dir, `notqmp-${++serial}.sock`);
    const server = createServer((socket) => socket.write('{"hello":"world"}\n'));
    server.listen(path);
    await once(server, "listening");
    try {
      await assert.rejects(QmpClient.connect(path, { timeoutMs: 2_000 }), (err) => isAgentisoError(err, "BACKEND_FAILED"));
    } finally {
      server.close();
    }
  });
});

describe("QMP line reader", () => {
  test("splits lines across chunks and strips carriage returns", () => {
    const reader = new QmpLineReader(64);
    assert.deepEqual(reader.push(Buffer.from('{"a":')), []);
    assert.deepEqual(reader.push(Buffer.from('1}\r\n{"b":2}\n{"c"')), ['{"a":1}', '{"b":2}']);
    assert.deepEqual(reader.push(Buffer.from(":3}\n")), ['{"c":3}']);
  });

  test("throws once one line exceeds the limit", () => {
    const reader = new QmpLineReader(8);
    assert.throws(() => reader.push(Buffer.from("123456789")), (err) => isAgentisoError(err, "BACKEND_FAILED"));
  });
});
