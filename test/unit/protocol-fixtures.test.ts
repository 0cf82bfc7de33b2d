// Golden fixtures: one file per message type and direction (test/fixtures/protocol). Each
// must parse under its schema without losing or adding a field, and every type in the
// unions must have one — so the wire format cannot drift silently.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AgentMessageSchema, ClientMessageSchema, encodeFrame } from "../../src/protocol/index.js";

const FIXTURES = resolve(import.meta.dirname, "../fixtures/protocol");

function fixtures(direction: "client" | "agent"): Map<string, unknown> {
  const dir = join(FIXTURES, direction);
  return new Map(readdirSync(dir).map((file) => [file.replace(/\.json$/, ""), JSON.parse(readFileSync(join(dir, file), "utf8"))]));
}

function unionTypes(schema: typeof ClientMessageSchema | typeof AgentMessageSchema): string[] {
  return schema.options.map((option) => option.shape.type.value as string).sort();
}

test("every client message type has a golden fixture that round-trips through its schema unchanged", () => {
  const files = fixtures("client");
  assert.deepEqual([...files.keys()].sort(), unionTypes(ClientMessageSchema));
  for (const [type, message] of files) {
    assert.deepEqual(ClientMessageSchema.parse(message), message, `client/${type}.json`);
  }
});

test("every agent message type has a golden fixture that round-trips through its schema unchanged", () => {
  const files = fixtures("agent");
  assert.deepEqual([...files.keys()].sort(), unionTypes(AgentMessageSchema));
  for (const [type, message] of files) {
    assert.deepEqual(AgentMessageSchema.parse(message), message, `agent/${type}.json`);
  }
});

test("the hello frame is a u32 big-endian length followed by its UTF-8 JSON", () => {
  const frame = encodeFrame({ id: 1, type: "hello", version: 1 });
  const json = '{"id":1,"type":"hello","version":1}';
  assert.equal(frame.toString("hex", 0, 4), json.length.toString(16).padStart(8, "0"));
  assert.equal(frame.subarray(4).toString("utf8"), json);
});

test("client messages with unknown fields are rejected (inbound objects are strict)", () => {
  assert.equal(ClientMessageSchema.safeParse({ id: 2, type: "ping", extra: true }).success, false);
  assert.equal(ClientMessageSchema.safeParse({ id: 0, type: "ping" }).success, false, "request ids are positive");
});
