// The stdin guard of `agentiso serve`: lines under the limit pass through unchanged (even when
// split across chunks); an oversized line is dropped and described so serve can answer it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OversizeGuard, oversizedAnswer, type OversizedMessage } from "../../src/mcp/oversize-guard.js";

async function feed(limit: number, chunks: string[]): Promise<{ passed: string; dropped: OversizedMessage[] }> {
  const dropped: OversizedMessage[] = [];
  const guard = new OversizeGuard(limit, (m) => dropped.push(m));
  const out: Buffer[] = [];
  guard.on("data", (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => guard.once("end", resolve));
  for (const chunk of chunks) guard.write(Buffer.from(chunk));
  guard.end();
  await ended;
  return { passed: Buffer.concat(out).toString(), dropped };
}

test("messages under the limit pass through whole, however the chunks fall", async () => {
  const a = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) + "\n";
  const b = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }) + "\n";
  const text = a + b;
  const { passed, dropped } = await feed(200, [text.slice(0, 5), text.slice(5, 50), text.slice(50)]);
  assert.equal(passed, text);
  assert.deepEqual(dropped, []);
});

test("an oversized tools/call is dropped, the next message still passes, and the answer is an isError result for its id", async () => {
  const big = JSON.stringify({ method: "tools/call", params: { name: "file_write", arguments: { content: "x".repeat(5000) } }, jsonrpc: "2.0", id: 7 }) + "\n";
  const next = JSON.stringify({ jsonrpc: "2.0", id: 8, method: "tools/list" }) + "\n";
  const { passed, dropped } = await feed(1000, [big.slice(0, 700), big.slice(700, 3000), big.slice(3000) + next]);
  assert.equal(passed, next);
  assert.deepEqual(dropped, [{ sizeBytes: big.length, id: 7, method: "tools/call" }]);
  const answer = JSON.parse(oversizedAnswer(dropped[0]!, 1000)!) as { id: number; result: { isError: boolean; content: Array<{ text: string }> } };
  assert.equal(answer.id, 7);
  assert.equal(answer.result.isError, true);
  assert.match(answer.result.content[0]!.text, /^INVALID_INPUT: the message is \d+ bytes, over the 1000-byte limit.*file_transfer/);
});

test("an oversized message without a readable id gets no answer; other methods get a JSON-RPC error", () => {
  assert.equal(oversizedAnswer({ sizeBytes: 10, id: undefined, method: "tools/call" }, 5), undefined);
  const answer = JSON.parse(oversizedAnswer({ sizeBytes: 10, id: "r1", method: "resources/read" }, 5)!) as { error: { code: number } };
  assert.equal(answer.error.code, -32600);
});
