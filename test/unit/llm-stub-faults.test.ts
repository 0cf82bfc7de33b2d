// The stub model's scripted provider faults: a stream that goes silent, rate-limit storms.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startStubServer } from "../../src/llm/stub-server.js";

const chat = (url: string, signal?: AbortSignal) =>
  fetch(`${url}/chat/completions`, { method: "POST", body: JSON.stringify({ stream: true, messages: [{ role: "user", content: "hi" }], tools: [{ type: "function", function: { name: "bash" } }] }), ...(signal && { signal }) });

test("stallAfterChunks sends that many chunks, then holds the stream open without a byte more", async () => {
  await using stub = await startStubServer({ script: { rules: [{ steps: [{ text: "one two three four", stallAfterChunks: 2 }] }] } });
  const res = await chat(stub.url);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = "";
  while ((text.match(/data: /g) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
  const next = await Promise.race([reader.read().then(() => "more"), new Promise((resolve) => setTimeout(() => resolve("silence"), 500))]);
  assert.equal(next, "silence");
  assert.equal((text.match(/data: /g) ?? []).length, 2);
  await reader.cancel();
});

test("a storm refuses the next N chat completions with 429 and Retry-After, then the script answers", async () => {
  await using stub = await startStubServer({ script: { storm: { requests: 2, retryAfterSeconds: 1 } } });
  const answers = [await chat(stub.url), await chat(stub.url), await chat(stub.url)];
  assert.deepEqual(answers.map((r) => r.status), [429, 429, 200]);
  assert.equal(answers[0]!.headers.get("retry-after"), "1");
  stub.storm({ requests: 1, status: 503 });
  assert.equal((await chat(stub.url)).status, 503);
  assert.equal((await chat(stub.url)).status, 200);
  for (const r of answers) await r.body?.cancel();
  assert.deepEqual(stub.requests.map((r) => r.status), [429, 429, 200, 503, 200]);
});
