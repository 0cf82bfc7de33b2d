// Bad input never kills the agent and never leaks a process. One suite, run over the
// in-memory pair (unit) and against the real bundled agent on a unix socket (integration).
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { delay } from "../../src/core/deadline.js";
import { encodeFrame, MAX_FRAME_BYTES } from "../../src/protocol/frame.js";
import { header, RawFrames } from "./raw-frames.js";
import { uniqueSleepSeconds, waitForNoProcess, waitForProcess } from "./processes.js";

export interface BadInputTarget {
  /** Opens a new raw connection to the agent. */
  open(): Promise<Duplex>;
}

// Registers the bad-input tests against target (call inside a describe with before/after).
export function describeBadInput(target: () => BadInputTarget): void {
  const connect = async () => new RawFrames(await target().open());
  const greeted = async () => {
    const raw = await connect();
    assert.equal((await raw.hello()).type, "hello");
    return raw;
  };
  const stillServes = async () => {
    const raw = await greeted();
    raw.send({ id: 99, type: "ping" });
    assert.equal((await raw.reply(99)).type, "pong");
    raw.transport.destroy();
  };

  test("a length prefix over 16 MiB gets FRAME_ERROR with id 0, then only that connection closes", async () => {
    const other = await greeted();
    const raw = await greeted();
    raw.sendBytes(header(MAX_FRAME_BYTES + 1));
    assert.deepEqual(pick(await raw.next()), { id: 0, type: "error", code: "FRAME_ERROR" });
    await raw.closedByPeer();
    other.send({ id: 2, type: "ping" });
    assert.equal((await other.reply(2)).type, "pong");
    other.transport.destroy();
  });

  test("a frame cut short by the client's end closes cleanly", async () => {
    const raw = await greeted();
    raw.sendBytes(Buffer.concat([header(100), Buffer.from('{"id":2,')]));
    raw.transport.end();
    await raw.closedByPeer();
    await stillServes();
  });

  test("a wrong length prefix that splits a message answers INVALID_REQUEST, then FRAME_ERROR on the garbage", async () => {
    const raw = await greeted();
    const frame = encodeFrame({ id: 2, type: "ping" });
    frame.writeUInt32BE(3, 0); // claims 3 bytes: '{"i' — the rest is read as the next header
    raw.sendBytes(frame);
    assert.deepEqual(pick(await raw.next()), { id: 0, type: "error", code: "INVALID_REQUEST" });
    assert.deepEqual(pick(await raw.next()), { id: 0, type: "error", code: "FRAME_ERROR" });
    await raw.closedByPeer();
    await stillServes();
  });

  test("invalid JSON, a missing id and an unknown type each get an error and the connection keeps working", async () => {
    const raw = await greeted();
    raw.sendBytes(Buffer.concat([header(5), Buffer.from("{nope")]));
    assert.deepEqual(pick(await raw.next()), { id: 0, type: "error", code: "INVALID_REQUEST" });
    raw.send({ type: "ping" });
    assert.deepEqual(pick(await raw.next()), { id: 0, type: "error", code: "INVALID_REQUEST" });
    raw.send({ id: 3, type: "teleport" });
    assert.deepEqual(pick(await raw.reply(3)), { id: 3, type: "error", code: "UNKNOWN_TYPE" });
    raw.send({ id: 4, type: "exec", argv: "not-an-array" });
    assert.deepEqual(pick(await raw.reply(4)), { id: 4, type: "error", code: "INVALID_REQUEST" });
    raw.send({ id: 5, type: "ping" });
    assert.equal((await raw.reply(5)).type, "pong");
    raw.transport.destroy();
  });

  test("requests before hello are refused and a wrong version closes the connection", async () => {
    const raw = await connect();
    raw.send({ id: 1, type: "ping" });
    assert.deepEqual(pick(await raw.reply(1)), { id: 1, type: "error", code: "INVALID_REQUEST" });
    raw.send({ id: 2, type: "hello", version: 99 });
    assert.deepEqual(pick(await raw.reply(2)), { id: 2, type: "error", code: "VERSION_MISMATCH" });
    await raw.closedByPeer();
  });

  test("a duplicate id is refused while the first request keeps running", async () => {
    const marker = uniqueSleepSeconds();
    const raw = await greeted();
    raw.send({ id: 7, type: "exec", argv: ["sleep", marker] });
    await waitForProcess(marker);
    raw.send({ id: 7, type: "ping" });
    assert.deepEqual(pick(await raw.reply(7)), { id: 7, type: "error", code: "DUPLICATE_ID" });
    raw.send({ id: 7, type: "cancel" });
    assert.deepEqual(pick(await raw.reply(7)), { id: 7, type: "error", code: "CANCELLED" });
    assert.deepEqual(await waitForNoProcess(marker), []);
    raw.transport.destroy();
  });

  test("a client that vanishes mid-exec gets the exec's whole process group killed", async () => {
    const marker = uniqueSleepSeconds();
    const raw = await greeted();
    raw.send({ id: 2, type: "exec", shell: `sleep ${marker} & sleep ${marker}; wait` });
    assert.equal((await waitForProcess(marker, 3)).length, 3, "sh and its two sleeps");
    raw.transport.destroy();
    assert.deepEqual(await waitForNoProcess(marker), []);
    await stillServes();
  });

  test("a client that vanishes mid-stream stops the stream and kills the streaming command", async () => {
    const marker = uniqueSleepSeconds();
    const raw = await greeted();
    raw.send({ id: 2, type: "exec", shell: `while :; do echo ${marker}; done`, stream: true });
    await raw.next((m) => m.type === "data"); // never acked: the agent must stop at its window
    raw.send({ id: 3, type: "file_download", path: "/dev/zero" });
    await raw.next((m) => m.id === 3 && m.type === "data");
    raw.transport.destroy();
    assert.deepEqual(await waitForNoProcess(marker), []);
    await stillServes();
  });

  test("a client that vanishes closes its tunnels and guest listeners", async () => {
    const raw = await greeted();
    raw.send({ id: 2, type: "tunnel_listen", port: 0 });
    const ready = await raw.next((m) => m.id === 2 && m.type === "tunnel_ready");
    raw.send({ id: 3, type: "tunnel_open", port: ready.port });
    await raw.next((m) => m.id === 3 && m.type === "tunnel_ready");
    await raw.next((m) => m.type === "tunnel_accept");
    raw.transport.destroy();
    assert.equal(await refusedSoon(ready.port as number), true, "the guest port stops listening");
    await stillServes();
  });

  test("1,000 concurrent requests on one connection each get their own reply", async () => {
    const raw = await greeted();
    const types = ["ping", "job_list", "file_stat", "exec"] as const;
    for (let id = 2; id < 1002; id++) {
      const type = types[id % types.length]!;
      raw.send(type === "file_stat" ? { id, type, path: "/" } : type === "exec" ? { id, type, argv: ["true"] } : { id, type });
    }
    const replies = new Map<number, string>();
    while (replies.size < 1000) {
      const message = await raw.next();
      replies.set(message.id, message.type);
    }
    assert.deepEqual(new Set(replies.values()), new Set(["pong", "jobs", "stat", "exec_result"]));
    raw.transport.destroy();
  });
}

// Polls until a connect to 127.0.0.1:port is refused (the listener closed), or gives up.
async function refusedSoon(port: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => (socket.destroy(), resolve(false)));
      socket.once("error", () => resolve(true));
    });
    if (refused) return true;
    await delay(20);
  }
  return false;
}

function pick(message: Record<string, unknown>): Record<string, unknown> {
  const { id, type, code } = message;
  return code === undefined ? { id, type } : { id, type, code };
}
