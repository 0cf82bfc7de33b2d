// The host end of a port forward (src/net/port-listener.ts) with its far end a plain TCP server
// on loopback: bytes pass both ways and are counted, a half-close still gets the whole answer,
// a far end that cannot be opened resets the connection, connections past the cap are closed,
// a port in use is CONFLICT, and close ends every connection and frees the port.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { once } from "node:events";
import { silentLogger } from "../../src/core/logger.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { PortListener, type PortListenerOptions } from "../../src/net/port-listener.js";

// A far end that answers each connection with everything it was sent, upper-cased, once the client ends.
async function shoutServer(): Promise<Server & AsyncDisposable> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => socket.end(Buffer.concat(chunks).toString().toUpperCase()));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return Object.assign(server, { [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())) });
}

const portOf = (server: Server) => (server.address() as { port: number }).port;

function options(farPort: number, extra: Partial<PortListenerOptions> = {}): PortListenerOptions {
  return {
    host: "127.0.0.1",
    port: 0,
    maxConnections: 8,
    openFarEnd: async () => {
      const far = connect({ host: "127.0.0.1", port: farPort, allowHalfOpen: true });
      await once(far, "connect");
      return far;
    },
    logger: silentLogger,
    ...extra,
  };
}

// Sends text, half-closes, and reads the answer to the end.
async function ask(port: number, text: string): Promise<string> {
  const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  await once(socket, "connect");
  socket.end(text);
  let answer = "";
  for await (const chunk of socket) answer += String(chunk);
  return answer;
}

test("bytes pass both ways, a half-closed client still gets the whole answer, and both directions are counted", async () => {
  await using far = await shoutServer();
  const seen = { toFar: 0, fromFar: 0 };
  await using listener = await PortListener.open(options(portOf(far), { onBytes: (direction, bytes) => (seen[direction] += bytes) }));
  const payload = "x".repeat(300_000);
  assert.equal(await ask(listener.port, payload), payload.toUpperCase());
  assert.equal(await ask(listener.port, "hello"), "HELLO");
  const stats = listener.stats();
  assert.deepEqual([stats.bytesToFar, stats.bytesFromFar], [300_005, 300_005]);
  assert.deepEqual(seen, { toFar: 300_005, fromFar: 300_005 });
});

test("a far end that cannot be opened resets the connection at once", async () => {
  await using listener = await PortListener.open(options(1, { openFarEnd: async () => Promise.reject(new Error("refused")) }));
  const socket = connect({ host: "127.0.0.1", port: listener.port });
  const started = performance.now();
  const [err] = (await once(socket, "error")) as [NodeJS.ErrnoException];
  assert.equal(err.code, "ECONNRESET");
  assert.ok(performance.now() - started < 1000);
});

test("connections past the cap are closed at accept while the first ones stay open", async () => {
  await using far = await shoutServer();
  await using listener = await PortListener.open(options(portOf(far), { maxConnections: 2 }));
  const open: Socket[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const socket = connect({ host: "127.0.0.1", port: listener.port, allowHalfOpen: true });
      await once(socket, "connect");
      open.push(socket);
    }
    while (listener.stats().openConnections < 2) await new Promise((resolve) => setImmediate(resolve));
    const third = connect({ host: "127.0.0.1", port: listener.port });
    await once(third, "close");
    open[0]!.end("still served");
    let answer = "";
    for await (const chunk of open[0]!) answer += String(chunk);
    assert.equal(answer, "STILL SERVED");
  } finally {
    for (const socket of open) socket.destroy();
  }
});

test("a host port in use is CONFLICT; close ends open connections and frees the port", async () => {
  await using far = await shoutServer();
  const listener = await PortListener.open(options(portOf(far)));
  await assert.rejects(PortListener.open(options(portOf(far), { port: listener.port })), (err) => isAgentisoError(err, "CONFLICT") && /in use/.test(err.message));
  const client = connect({ host: "127.0.0.1", port: listener.port });
  client.on("error", () => {});
  await once(client, "connect");
  while (listener.stats().openConnections < 1) await new Promise((resolve) => setImmediate(resolve));
  const closed = once(client, "close");
  await listener.close();
  await closed;
  const again = await PortListener.open(options(portOf(far), { port: listener.port }));
  await again.close();
});

test("an address this host does not have is INVALID_INPUT", async () => {
  await assert.rejects(PortListener.open(options(1, { host: "192.0.2.1" })), (err) => isAgentisoError(err, "INVALID_INPUT"));
});
