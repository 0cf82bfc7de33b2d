// The pure framing decoder: reassembles frames split anywhere, refuses an oversized length
// before allocating, and reports a frame cut short.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeDataFrame, encodeFrame, FrameDecoder, FrameError, MAX_FRAME_BYTES, parsePayload } from "../../src/protocol/frame.js";
import { FlowWindow } from "../../src/protocol/flow-window.js";

const header = (length: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(length, 0);
  return buffer;
};

test("frames fed one byte at a time come out whole and in order", () => {
  const bytes = Buffer.concat([encodeFrame({ id: 1, type: "ping" }), encodeFrame({ id: 2, type: "data", data: "ÿ€" })]);
  const decoder = new FrameDecoder();
  const out: unknown[] = [];
  for (const byte of bytes) out.push(...decoder.push(Buffer.from([byte])).map(parsePayload));
  assert.deepEqual(out, [{ id: 1, type: "ping" }, { id: 2, type: "data", data: "ÿ€" }]);
  assert.equal(decoder.pendingBytes, 0);
});

test("a length prefix over MAX_FRAME_BYTES is refused from the header alone", () => {
  const decoder = new FrameDecoder();
  assert.deepEqual(decoder.push(header(MAX_FRAME_BYTES + 1)), []);
  assert.ok(decoder.error instanceof FrameError);
  assert.deepEqual(decoder.push(encodeFrame({ id: 1 })), [], "nothing is decoded after a bad prefix");
  const other = new FrameDecoder();
  other.push(header(0xffffffff));
  assert.ok(other.error instanceof FrameError);
});

test("frames before a bad length prefix in the same chunk are still delivered", () => {
  const decoder = new FrameDecoder();
  const frames = decoder.push(Buffer.concat([encodeFrame({ id: 1 }), header(MAX_FRAME_BYTES + 1)]));
  assert.deepEqual(frames.map(parsePayload), [{ id: 1 }]);
  assert.ok(decoder.error);
});

test("a frame of exactly MAX_FRAME_BYTES is accepted", () => {
  const decoder = new FrameDecoder();
  assert.deepEqual(decoder.push(header(MAX_FRAME_BYTES)), []);
  const frames = decoder.push(Buffer.alloc(MAX_FRAME_BYTES, 0x20));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.length, MAX_FRAME_BYTES);
});

test("encoding a message larger than the frame limit throws instead of sending it", () => {
  assert.throws(() => encodeFrame({ data: "x".repeat(MAX_FRAME_BYTES) }), FrameError);
});

test("an incomplete frame shows as pending bytes", () => {
  const decoder = new FrameDecoder();
  const frame = encodeFrame({ id: 1, type: "ping" });
  decoder.push(frame.subarray(0, frame.length - 1));
  assert.equal(decoder.pendingBytes, frame.length - 1);
});

test("a flow window blocks senders once full and wakes them on ack", async () => {
  const window = new FlowWindow(10);
  assert.equal(window.sent(10), true);
  let woke = false;
  const waiting = window.room().then(() => (woke = true));
  window.acked(3);
  await waiting;
  assert.equal(woke, true);
  assert.equal(window.full, false);
});

test("data frames from the fast encoder equal encodeFrame's bytes and decode to the same message", () => {
  for (const [bytes, fd] of [[Buffer.alloc(10_000, 7), 1], [Buffer.from([0, 1, 2, 255]), undefined], [Buffer.alloc(0), 2]] as const) {
    const message = fd === undefined ? { id: -3, type: "data", data: bytes.toString("base64") } : { id: 42, type: "data", fd, data: bytes.toString("base64") };
    const frame = encodeDataFrame(message.id, bytes, fd);
    assert.deepEqual(frame, encodeFrame(message));
    assert.deepEqual(new FrameDecoder().push(frame).map(parsePayload), [message]);
  }
});

test("a big data payload in another key order or with escapes still parses as JSON", () => {
  const data = "QUJD".repeat(2000);
  for (const message of [{ type: "data", id: 1, data }, { id: 1, type: "data", data: `${data}\\/` }, { id: 1, type: "data", data, extra: "x" }]) {
    assert.deepEqual(new FrameDecoder().push(encodeFrame(message)).map(parsePayload), [message]);
  }
});
