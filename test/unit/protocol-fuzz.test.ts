// Property-based fuzzing (fast-check) of the frame decoder and of the agent's request
// handler. The handler fuzz sends only read-only or memory-only request types plus random
// ones, so a lucky input can never delete or overwrite a host file.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeFrame, FrameDecoder, parsePayload } from "../../src/protocol/frame.js";
import { startInProcessAgent } from "../support/in-process-agent.js";
import { RawFrames } from "../support/raw-frames.js";

test("frames split at arbitrary points decode to the messages that were encoded", () => {
  fc.assert(
    fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 16 }), (messages, cuts) => {
      const bytes = Buffer.concat(messages.map((m) => encodeFrame(m)));
      const points = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
      const decoder = new FrameDecoder();
      const out: unknown[] = [];
      let from = 0;
      for (const point of [...points, bytes.length]) {
        out.push(...decoder.push(bytes.subarray(from, point)).map(parsePayload));
        from = point;
      }
      assert.deepEqual(out, messages.map((m) => JSON.parse(JSON.stringify(m))));
      assert.equal(decoder.pendingBytes, 0);
    }),
    { numRuns: 300 },
  );
});

test("random bytes never make the decoder throw or buffer past one frame", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 16 }), (chunks) => {
      const decoder = new FrameDecoder();
      for (const chunk of chunks) decoder.push(Buffer.from(chunk));
      assert.ok(decoder.error !== undefined || decoder.pendingBytes <= chunks.reduce((n, c) => n + c.length, 0));
    }),
    { numRuns: 500 },
  );
});

const SAFE_TYPES = ["hello", "ping", "job_list", "job_poll", "job_kill", "file_read", "file_stat", "file_list", "set_env", "unset_env", "configure", "data", "end", "ack", "cancel"];

const fuzzMessage = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      id: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
      type: fc.oneof(fc.constantFrom(...SAFE_TYPES), fc.string()),
      path: fc.constantFrom("/nonexistent-agentiso", "/proc/self/status", "/", ""),
      version: fc.integer(),
      vars: fc.dictionary(fc.string(), fc.string()),
      names: fc.array(fc.string()),
      jobId: fc.string(),
      bytes: fc.integer(),
      data: fc.string(),
      hostname: fc.string(),
    },
    { requiredKeys: [] },
  ),
);

test("the request handler answers any sequence of messages without crashing, and keeps serving", async () => {
  await using harness = startInProcessAgent({ setHostname: async () => {} });
  await fc.assert(
    fc.asyncProperty(fc.array(fuzzMessage, { maxLength: 12 }), async (messages) => {
      const raw = new RawFrames(harness.rawConnection());
      raw.send({ id: 1, type: "hello", version: 1 });
      for (const message of messages) raw.send(message);
      raw.send({ id: 2 ** 52, type: "ping" });
      const pong = await raw.next((m) => m.id === 2 ** 52 && m.type === "pong").catch(() => undefined);
      if (!pong) {
        // Only a version mismatch may close the connection; then a fresh one must work.
        assert.ok(messages.some((m) => (m as { type?: unknown } | null)?.type === "hello"), "closed without a hello mismatch");
        const fresh = new RawFrames(harness.rawConnection());
        assert.equal((await fresh.hello()).type, "hello");
        fresh.transport.destroy();
      }
      raw.transport.destroy();
    }),
    { numRuns: 200 },
  );
});
