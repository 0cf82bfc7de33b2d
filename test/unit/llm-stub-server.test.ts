// The stub model speaks OpenAI chat-completions the way opencode's provider expects it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { runLlmStubCommand } from "../../src/llm/stub-command.js";
import { loadStubScript } from "../../src/llm/stub-script.js";
import { startStubServer } from "../../src/llm/stub-server.js";

const TOOLS = [{ type: "function", function: { name: "write", parameters: {} } }, { type: "function", function: { name: "edit", parameters: {} } }];
const SYSTEM = { role: "system", content: "You are opencode.\n<env>\n  Working directory: /repo\n</env>" };

function chat(url: string, body: object) {
  return fetch(`${url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

function sseEvents(text: string): Array<Record<string, unknown> | "[DONE]"> {
  assert.ok(text.endsWith("data: [DONE]\n\n"), "the stream ends with [DONE]");
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((block) => {
      assert.match(block, /^data: /);
      const data = block.slice(6);
      return data === "[DONE]" ? "[DONE]" : (JSON.parse(data) as Record<string, unknown>);
    });
}

const WRITE_EDIT_ANSWER = {
  rules: [
    {
      name: "write-edit",
      match: { firstUserMessageContains: "do the task" },
      steps: [
        { toolCalls: [{ name: "write", arguments: { filePath: "{{workdir}}/NEW.md", content: "hi\n" } }] },
        { toolCalls: [{ name: "edit", arguments: { filePath: "{{workdir}}/a.txt", oldString: "a", newString: "b" } }] },
        { text: "Done." },
      ],
    },
  ],
};

describe("llm stub server", () => {
  test("a streamed answer is SSE chunks with usage in the final chunk and in a usage chunk when asked", async () => {
    await using stub = await startStubServer({ script: { usage: { promptTokens: 7, completionTokens: 3 } } });
    const res = await chat(stub.url, { model: "m", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const events = sseEvents(await res.text());
    const chunks = events.filter((e) => e !== "[DONE]") as Array<{ choices: Array<{ delta: { content?: string }; finish_reason: string | null }>; usage?: unknown }>;
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? "")).join("");
    assert.equal(text, "Hello from the agentiso stub model.");
    const usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };
    const finish = chunks.find((c) => c.choices[0]?.finish_reason)!;
    assert.equal(finish.choices[0]!.finish_reason, "stop");
    assert.deepEqual(finish.usage, usage);
    assert.deepEqual(chunks.at(-1), { ...chunks.at(-1), choices: [], usage });
  });

  test("with streamUsage when-asked a stream carries usage only when the client asks for it, as OpenAI does", async () => {
    await using stub = await startStubServer({ script: { streamUsage: "when-asked", usage: { promptTokens: 7, completionTokens: 3 } } });
    const unasked = sseEvents(await (await chat(stub.url, { model: "m", stream: true, messages: [{ role: "user", content: "hi" }] })).text());
    assert.equal(unasked.filter((e) => e !== "[DONE]" && (e as { usage?: unknown }).usage !== undefined).length, 0);
    const asked = sseEvents(await (await chat(stub.url, { model: "m", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] })).text());
    assert.deepEqual(asked.filter((e) => e !== "[DONE]" && (e as { usage?: unknown }).usage !== undefined).map((e) => (e as { choices: unknown[] }).choices), [[]], "only the usage chunk has usage");
    assert.deepEqual(stub.usageTotals(), { promptTokens: 14, completionTokens: 6 }, "both answers are billed");
  });

  test("a non-streamed answer is one chat.completion with usage, and the model list names the script's models", async () => {
    await using stub = await startStubServer({ script: { models: ["a", "b"] } });
    const body = (await (await chat(stub.url, { model: "a", messages: [{ role: "user", content: "hi" }] })).json()) as Record<string, unknown>;
    assert.equal(body.object, "chat.completion");
    assert.deepEqual(body.usage, { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 });
    const models = (await (await fetch(`${stub.url}/models`)).json()) as { data: Array<{ id: string }> };
    assert.deepEqual(models.data.map((m) => m.id), ["a", "b"]);
  });

  test("a scripted conversation plays its steps by assistant turns, with the working directory filled in", async () => {
    await using stub = await startStubServer({ script: WRITE_EDIT_ANSWER });
    const user = { role: "user", content: "please do the task" };
    const turn = { role: "assistant", content: "", tool_calls: [] };
    const tool = { role: "tool", content: "ok", tool_call_id: "x" };
    const answers = [];
    for (const messages of [[SYSTEM, user], [SYSTEM, user, turn, tool], [SYSTEM, user, turn, tool, turn, tool]]) {
      answers.push((await (await chat(stub.url, { model: "m", tools: TOOLS, messages })).json()) as { choices: Array<{ message: { content: string | null; tool_calls?: Array<{ function: { name: string; arguments: string } }> }; finish_reason: string }> });
    }
    const calls = answers.map((a) => a.choices[0]!.message.tool_calls?.[0]?.function);
    assert.equal(calls[0]!.name, "write");
    assert.deepEqual(JSON.parse(calls[0]!.arguments), { filePath: "/repo/NEW.md", content: "hi\n" });
    assert.equal(calls[1]!.name, "edit");
    assert.equal(answers[0]!.choices[0]!.finish_reason, "tool_calls");
    assert.equal(answers[2]!.choices[0]!.message.content, "Done.");
    assert.deepEqual(stub.requests.map((r) => [r.rule, r.stepIndex]), [["write-edit", 0], ["write-edit", 1], ["write-edit", 2]]);
    assert.deepEqual(stub.requests[0]!.tools, ["write", "edit"]);
    assert.deepEqual(stub.usageTotals(), { promptTokens: 300, completionTokens: 60 });
  });

  test("a title request without tools gets the default answer, not the task's tool call", async () => {
    await using stub = await startStubServer({ script: WRITE_EDIT_ANSWER });
    const messages = [{ role: "system", content: "You are a title generator." }, { role: "user", content: "Generate a title" }, { role: "user", content: "please do the task" }];
    const answer = (await (await chat(stub.url, { model: "m", messages })).json()) as { choices: Array<{ message: { content: string } }> };
    assert.equal(answer.choices[0]!.message.content, "Hello from the agentiso stub model.");
    assert.equal(stub.requests[0]!.rule, undefined);
  });

  test("scripted HTTP errors answer with the status and an OpenAI error body", async () => {
    for (const status of [400, 500]) {
      await using stub = await startStubServer({ script: { default: { fail: { status, message: "nope" } } } });
      const res = await chat(stub.url, { model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as { error: { message: string } }).error.message, "nope");
      assert.equal(stub.requests[0]!.status, status);
      assert.deepEqual(stub.usageTotals(), { promptTokens: 0, completionTokens: 0 });
    }
  });

  test("a scripted cut drops the connection mid-stream", async () => {
    await using stub = await startStubServer({ script: { default: { text: "one two three", cutAfterChunks: 2 } } });
    const res = await chat(stub.url, { model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
    assert.equal(res.status, 200);
    await assert.rejects(res.text());
  });

  test("a scripted delay still answers, and closing the server ends a pending delay", async () => {
    await using stub = await startStubServer({ script: { default: { text: "late", delayMs: 50 } } });
    const res = await chat(stub.url, { model: "m", messages: [{ role: "user", content: "hi" }] });
    assert.equal(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content, "late");
    const slow = await startStubServer({ script: { default: { text: "never", delayMs: 600_000 } } });
    const pending = chat(slow.url, { model: "m", messages: [{ role: "user", content: "hi" }] });
    while (slow.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await slow.close();
    await assert.rejects(pending);
  });

  test("scripts load from JSON files and bad scripts are refused with the field named", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agentiso-stub-"));
    try {
      await writeFile(join(dir, "ok.json"), JSON.stringify(WRITE_EDIT_ANSWER));
      await writeFile(join(dir, "bad.json"), JSON.stringify({ rules: [{ steps: [{ fail: { status: 200 } }] }] }));
      assert.equal((await loadStubScript(join(dir, "ok.json"))).rules[0]!.steps.length, 3);
      await assert.rejects(loadStubScript(join(dir, "bad.json")), (err) => isAgentisoError(err, "INVALID_INPUT") && /status/.test(err.message));
      await assert.rejects(loadStubScript(join(dir, "missing.json")), (err) => isAgentisoError(err, "NOT_FOUND"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("the llm-stub command prints its URL, serves, and stops when told to", async () => {
    const stop = new AbortController();
    let url = "";
    const done = runLlmStubCommand(["--port", "0"], { signal: stop.signal, print: (line) => (url = line) });
    while (!url) await new Promise((resolve) => setImmediate(resolve));
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    assert.equal((await fetch(`${url}/models`)).status, 200);
    stop.abort();
    assert.equal(await done, 0);
    await assert.rejects(runLlmStubCommand(["--port", "x"]), (err) => isAgentisoError(err, "INVALID_INPUT"));
  });
});
