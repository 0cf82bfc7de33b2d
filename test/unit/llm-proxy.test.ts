// The keyless proxy: real key in, client keys out, one provider only, tokens metered, caps enforced.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import { Duplex } from "node:stream";
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { createLogger } from "../../src/core/logger.js";
import { LlmProxy } from "../../src/llm/proxy.js";
import { startStubServer } from "../../src/llm/stub-server.js";
import { totalTokens as totalOf } from "../../src/llm/token-usage.js";

const KEY = "sk-real-4f1c0d2e9b8a7766";

function capturedLogger() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: "debug", write: (line) => lines.push(line) }) };
}

function chatBody(extra: object = {}) {
  return JSON.stringify({ model: "stub-model", messages: [{ role: "user", content: "hi" }], ...extra });
}

// An upstream that always answers the same bytes, to check relaying and metering exactly.
async function fixedUpstream(contentType: string, body: string): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": contentType }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, hits: () => hits, server };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

// Sends bytes as they are (fetch would normalise the request target).
function rawRequest(url: string, head: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head));
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString()));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

// Two in-memory streams wired to each other, like a guest agent tunnel (not a net.Socket).
function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        peer().push(chunk);
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
    });
  sides.push(make(() => sides[1]!), make(() => sides[0]!));
  return [sides[0]!, sides[1]!];
}

describe("llm proxy", () => {
  test("the real key replaces whatever key the client sent", async () => {
    await using stub = await startStubServer();
    const proxy = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: KEY } });
    await using task = proxy.forTask("t1");
    const url = await task.listen();
    const res = await fetch(`${url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-client", "x-api-key": "sk-other", "api-key": "sk-azure" },
      body: chatBody(),
    });
    assert.equal(res.status, 200);
    const headers = stub.requests[0]!.headers;
    assert.equal(headers.authorization, `Bearer ${KEY}`);
    assert.equal(headers["x-api-key"], undefined);
    assert.equal(headers["api-key"], undefined);
    assert.equal(new URL(url).pathname, "/v1");
  });

  test("an anthropic provider gets its key as x-api-key and no bearer token", async () => {
    await using stub = await startStubServer();
    const proxy = new LlmProxy({ provider: { kind: "anthropic", baseUrl: stub.url, apiKey: KEY } });
    await using task = proxy.forTask("t1");
    await fetch(`${await task.listen()}/messages`, { method: "POST", headers: { authorization: "Bearer sk-client" }, body: "{}" });
    assert.equal(stub.requests[0]!.headers["x-api-key"], KEY);
    assert.equal(stub.requests[0]!.headers.authorization, undefined);
    assert.equal(stub.requests[0]!.headers["anthropic-version"], "2023-06-01");
  });

  test("requests aimed anywhere but under the provider's base URL are refused and never sent", async () => {
    const upstream = await fixedUpstream("application/json", "{}");
    const decoy = await fixedUpstream("application/json", "{}");
    try {
      const proxy = new LlmProxy({ provider: { kind: "openai", baseUrl: upstream.url, apiKey: KEY } });
      await using task = proxy.forTask("t1");
      const url = await task.listen();
      const decoyOrigin = new URL(decoy.url).origin;
      const targets = [`${decoyOrigin}/v1/chat/completions`, "/admin", "/v1/../admin", "/v1/%2e%2e/admin", "//evil.example/v1/x", "/v1x/chat"];
      for (const target of targets) {
        const answer = await rawRequest(url, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        assert.match(answer, /^HTTP\/1\.1 403/, target);
        assert.match(answer, /agentiso_proxy_refused/);
      }
      assert.equal(upstream.hits() + decoy.hits(), 0);
      const ok = await rawRequest(url, `GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(ok, /^HTTP\/1\.1 200/);
      assert.equal(upstream.hits(), 1);
    } finally {
      await closeServer(upstream.server);
      await closeServer(decoy.server);
    }
  });

  test("only the provider kind's inference endpoints are forwarded, by method: files, fine-tuning, batches and deletes get 403", async () => {
    await using stub = await startStubServer();
    const openai = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: KEY } });
    await using task = openai.forTask("t1");
    const url = await task.listen();
    const refused = [
      ["DELETE", "/v1/files/file-abc"],
      ["GET", "/v1/files"],
      ["POST", "/v1/files"],
      ["GET", "/v1/files/file-abc/content"],
      ["POST", "/v1/fine_tuning/jobs"],
      ["POST", "/v1/batches"],
      ["DELETE", "/v1/models/ft:stub-model"],
      ["DELETE", "/v1/responses/resp_1"],
      ["GET", "/v1/responses/resp_1"],
      ["GET", "/v1/chat/completions"],
      ["POST", "/v1/chat/completions/"],
      ["POST", "/v1/chat%2Fcompletions"],
      ["POST", "/v1/embeddings"],
      ["POST", "/v1/messages"],
    ];
    for (const [method, path] of refused) {
      const answer = await rawRequest(url, `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
      assert.match(answer, /^HTTP\/1\.1 403/, `${method} ${path}`);
      assert.match(answer, /"type":"agentiso_proxy_refused"/);
      assert.match(answer, /is not forwarded: this proxy lends the key for inference only \(POST chat\/completions, .*GET models\[\/ID\] under \/v1\/\)/);
    }
    assert.equal(stub.requests.length, 0, "no refused request reached the provider");
    // a method override header cannot turn an allowed POST into something else
    const res = await fetch(`${url}/chat/completions`, { method: "POST", headers: { "x-http-method-override": "DELETE", "x-method-override": "DELETE" }, body: chatBody() });
    assert.equal(res.status, 200);
    assert.equal((await fetch(`${url}/models/stub-model`)).status, 404, "GET models/ID reaches the provider (the stub has no such route)");
    assert.deepEqual(stub.requests.map((r) => [r.method, r.path, r.headers["x-http-method-override"], r.headers["x-method-override"]]), [
      ["POST", "/v1/chat/completions", undefined, undefined],
      ["GET", "/v1/models/stub-model", undefined, undefined],
    ]);
    const anthropic = new LlmProxy({ provider: { kind: "anthropic", baseUrl: stub.url, apiKey: KEY } });
    await using claude = anthropic.forTask("t2");
    const claudeUrl = await claude.listen();
    assert.equal((await fetch(`${claudeUrl}/chat/completions`, { method: "POST", body: chatBody() })).status, 403);
    assert.equal((await fetch(`${claudeUrl}/messages/batches`, { method: "POST", body: "{}" })).status, 403);
    assert.equal((await fetch(`${claudeUrl}/messages`, { method: "POST", body: "{}" })).status, 404, "POST messages reaches the provider");
    const embedding = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: KEY }, routes: { embeddings: true } });
    await using embed = embedding.forTask("t3");
    assert.equal((await fetch(`${await embed.listen()}/embeddings`, { method: "POST", body: JSON.stringify({ input: "x" }) })).status, 404, "embeddings are forwarded when asked for");
  });

  test("bodies the proxy cannot meter are refused: compressed, background responses, not JSON, over 32 MiB", async () => {
    await using stub = await startStubServer();
    const proxy = new LlmProxy({ provider: { kind: "openai", baseUrl: stub.url, apiKey: KEY } });
    await using task = proxy.forTask("t1");
    const url = await task.listen();
    const gzip = await fetch(`${url}/chat/completions`, { method: "POST", headers: { "content-encoding": "gzip" }, body: chatBody() });
    assert.equal(gzip.status, 415);
    const background = await fetch(`${url}/responses`, { method: "POST", body: JSON.stringify({ model: "m", input: "hi", background: true }) });
    assert.equal(background.status, 400);
    assert.match(((await background.json()) as { error: { message: string } }).error.message, /background responses are not forwarded/);
    assert.equal((await fetch(`${url}/chat/completions`, { method: "POST", body: "[1]" })).status, 400);
    const huge = await rawRequest(url, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 40000000\r\n\r\n{");
    assert.match(huge, /^HTTP\/1\.1 413/);
    assert.deepEqual(stub.requests, []);
  });

  test("a streamed chat completion without include_usage is metered: the proxy asks the provider for usage", async () => {
    await using stub = await startStubServer({ script: { streamUsage: "when-asked", usage: { promptTokens: 30, completionTokens: 10 } } });
    const proxy = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: KEY } });
    await using task = proxy.forTask("t1");
    const url = await task.listen();
    for (const options of [undefined, { include_usage: false }]) {
      const res = await fetch(`${url}/chat/completions`, { method: "POST", body: chatBody({ stream: true, ...(options && { stream_options: options }) }) });
      assert.match(await res.text(), /\[DONE\]/);
    }
    assert.deepEqual(stub.requests.map((r) => (r.body as { stream_options?: unknown }).stream_options), [{ include_usage: true }, { include_usage: true }]);
    assert.deepEqual(task.usage().tokens, { input: 60, output: 20, reasoning: 0, cacheRead: 0, cacheWrite: 0 });
    assert.deepEqual(stub.usageTotals(), { promptTokens: 60, completionTokens: 20 });
  });

  test("20 parallel streamed requests without include_usage under a 100-token cap: 429 past the cap, and every forwarded token is counted", async () => {
    // each answer waits 1 s, so all 20 are in flight together; each costs 40 tokens
    await using stub = await startStubServer({ script: { streamUsage: "when-asked", usage: { promptTokens: 30, completionTokens: 10 }, default: { text: "hi", delayMs: 1000 } } });
    const proxy = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: KEY } });
    await using task = proxy.forTask("capped", { maxTokens: 100 });
    const url = await task.listen();
    const stream = async () => {
      const res = await fetch(`${url}/chat/completions`, { method: "POST", body: chatBody({ stream: true }) });
      return { status: res.status, body: await res.text() };
    };
    const parallel = await Promise.all(Array.from({ length: 20 }, stream));
    const statuses = parallel.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, `one request holds the whole remaining budget while it runs: ${statuses.join(" ")}`);
    for (const refused of parallel.filter((r) => r.status === 429)) {
      assert.match(refused.body, /"type":"agentiso_budget_exceeded"/);
      assert.match(refused.body, /token budget is taken: 0 of 100 tokens used and the rest reserved by 1 request/);
    }
    const later = [];
    for (let i = 0; i < 4; i++) later.push((await stream()).status);
    assert.deepEqual(later, [200, 200, 429, 429], "sequential requests go on until the cap is reached");
    const usage = task.usage();
    assert.equal(totalOf(usage.tokens), 120, "3 answers of 40 tokens: the cap (100) overshot by less than one answer");
    assert.deepEqual(stub.usageTotals(), { promptTokens: 90, completionTokens: 30 }, "what the provider billed is exactly what was counted");
    assert.deepEqual({ requests: usage.requests, refused: usage.refused }, { requests: 3, refused: 21 });
  });

  test("a stream the client drops before its usage arrives is charged an estimate, not nothing", async () => {
    let upstreamClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "x".repeat(800) } }] })}\n\n`);
      res.on("close", upstreamClosed); // never ends: the usage chunk would come last
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const proxy = new LlmProxy({ provider: { kind: "openai", baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: KEY } });
      await using task = proxy.forTask("t1", { maxTokens: 150 });
      const url = await task.listen();
      const controller = new AbortController();
      const res = await fetch(`${url}/chat/completions`, { method: "POST", body: chatBody({ stream: true }), signal: controller.signal });
      const reader = res.body!.getReader();
      await reader.read();
      controller.abort();
      await closed;
      while (task.usage().tokens.output === 0) await new Promise((resolve) => setImmediate(resolve));
      const tokens = task.usage().tokens;
      assert.ok(tokens.input >= Math.ceil(chatBody({ stream: true }).length / 4), `input estimated from the request: ${tokens.input}`);
      assert.ok(tokens.output >= 200, `output estimated from the bytes streamed: ${tokens.output}`);
      assert.equal((await fetch(`${url}/chat/completions`, { method: "POST", body: chatBody() })).status, 429);
    } finally {
      await closeServer(server);
    }
  });

  test("a streamed answer reaches the client whole and each response's usage is counted once", async () => {
    await using stub = await startStubServer({ script: { usage: { promptTokens: 100, completionTokens: 20 } } });
    const proxy = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: KEY } });
    await using task = proxy.forTask("t1");
    const url = await task.listen();
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${url}/chat/completions`, { method: "POST", body: chatBody({ stream: true, stream_options: { include_usage: true } }) });
      assert.match(await res.text(), /data: \[DONE\]\n\n$/);
    }
    assert.deepEqual(task.usage(), { tokens: { input: 200, output: 40, reasoning: 0, cacheRead: 0, cacheWrite: 0 }, costUsd: 0, requests: 2, refused: 0 });
  });

  test("OpenAI cached and reasoning tokens (chat and Responses) and Anthropic SSE usage are counted in the right fields, bodies relayed byte for byte", async () => {
    const openAiJson = JSON.stringify({ usage: { prompt_tokens: 50, completion_tokens: 30, prompt_tokens_details: { cached_tokens: 20 }, completion_tokens_details: { reasoning_tokens: 10 } } });
    const anthropicSse = [
      `event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":12,"cache_creation_input_tokens":5,"cache_read_input_tokens":7,"output_tokens":1}}}\n\n`,
      `event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"hi"}}\n\n`,
      `event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":9}}\n\n`,
    ].join("");
    const responsesSse = [
      `event: response.created\ndata: {"type":"response.created","response":{"id":"r1","usage":null}}\n\n`,
      `event: response.completed\ndata: {"type":"response.completed","response":{"id":"r1","usage":{"input_tokens":40,"input_tokens_details":{"cached_tokens":16},"output_tokens":12,"output_tokens_details":{"reasoning_tokens":4}}}}\n\n`,
    ].join("");
    for (const [kind, path, type, body, tokens] of [
      ["openai", "chat/completions", "application/json", openAiJson, { input: 30, output: 30, reasoning: 10, cacheRead: 20, cacheWrite: 0 }],
      ["openai", "responses", "text/event-stream", responsesSse, { input: 24, output: 12, reasoning: 4, cacheRead: 16, cacheWrite: 0 }],
      ["anthropic", "messages", "text/event-stream", anthropicSse, { input: 12, output: 9, reasoning: 0, cacheRead: 7, cacheWrite: 5 }],
    ] as const) {
      const upstream = await fixedUpstream(type, body);
      try {
        const proxy = new LlmProxy({ provider: { kind, baseUrl: upstream.url, apiKey: KEY } });
        await using task = proxy.forTask("t1");
        const res = await fetch(`${await task.listen()}/${path}`, { method: "POST", body: "{}" });
        assert.equal(await res.text(), body);
        assert.deepEqual(task.usage().tokens, tokens, kind);
      } finally {
        await closeServer(upstream.server);
      }
    }
  });

  test("a task over its token cap gets HTTP 429 with a JSON message and the provider is not called", async () => {
    await using stub = await startStubServer();
    const proxy = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: KEY } });
    await using capped = proxy.forTask("capped", { maxTokens: 200 });
    await using other = proxy.forTask("other", { maxTokens: 200 });
    const url = await capped.listen();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${url}/chat/completions`, { method: "POST", body: chatBody() })).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    const refused = await fetch(`${url}/chat/completions`, { method: "POST", body: chatBody() });
    const body = (await refused.json()) as { error: { message: string; type: string } };
    assert.equal(body.error.type, "agentiso_budget_exceeded");
    assert.match(body.error.message, /task capped reached its token budget: 240 of 200 tokens/);
    assert.equal(stub.requests.length, 2);
    assert.deepEqual({ requests: capped.usage().requests, refused: capped.usage().refused }, { requests: 2, refused: 2 });
    assert.equal((await fetch(`${await other.listen()}/chat/completions`, { method: "POST", body: chatBody() })).status, 200);
  });

  test("a cost cap uses the configured prices", async () => {
    await using stub = await startStubServer({ script: { usage: { promptTokens: 1000, completionTokens: 1000 } } });
    const proxy = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: KEY }, prices: { input: 1, output: 4 } });
    await using task = proxy.forTask("t1", { maxCostUsd: 0.01 });
    const url = await task.listen();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${url}/chat/completions`, { method: "POST", body: chatBody() })).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal(task.usage().costUsd.toFixed(3), "0.010");
  });

  test("connections handed over as sockets are served like listened ones", async () => {
    await using stub = await startStubServer();
    const proxy = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: KEY } });
    await using task = proxy.forTask("tunnelled");
    const sockets: Socket[] = [];
    const tunnel = createNetServer((socket) => {
      sockets.push(socket);
      task.handleConnection(socket);
    });
    await new Promise<void>((resolve) => tunnel.listen(0, "127.0.0.1", resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(tunnel.address() as AddressInfo).port}/v1/chat/completions`, { method: "POST", body: chatBody({ stream: true }) });
      assert.match(await res.text(), /\[DONE\]/);
      assert.equal(task.usage().tokens.input, 100);
      await task.close();
      assert.ok(sockets.length > 0 && sockets.every((socket) => socket.destroyed), "closing the task drops its handed-over connections");
    } finally {
      await task.close();
      await new Promise((resolve) => tunnel.close(resolve));
    }
  });

  test("an in-memory stream handed over like a guest tunnel is served and dropped on close", async () => {
    await using stub = await startStubServer();
    const proxy = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: KEY } });
    const task = proxy.forTask("tunnel");
    const [client, server] = duplexPair();
    task.handleConnection(server);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request({ createConnection: () => client as never, path: "/v1/chat/completions", method: "POST", headers: { host: "workspace" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      });
      req.on("error", reject);
      req.end(chatBody({ stream: true }));
    });
    assert.equal(status, 200);
    assert.equal(stub.requests[0]!.headers.authorization, `Bearer ${KEY}`);
    assert.equal(task.usage().tokens.output, 20);
    await task.close();
    assert.equal(server.destroyed, true);
  });

  test("the key appears in no log line, not even when the provider is unreachable", async () => {
    const { lines, logger } = capturedLogger();
    const dead = await fixedUpstream("application/json", "{}");
    const deadUrl = dead.url;
    await closeServer(dead.server);
    await using stub = await startStubServer();
    for (const baseUrl of [stub.url, deadUrl]) {
      const proxy = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl, apiKey: KEY }, logger });
      await using task = proxy.forTask("t1", { maxTokens: 1 });
      const url = await task.listen();
      const statuses = [];
      for (let i = 0; i < 2; i++) statuses.push((await fetch(`${url}/chat/completions?key=${KEY}`, { method: "POST", headers: { authorization: `Bearer ${KEY}` }, body: chatBody() })).status);
      assert.deepEqual(statuses, baseUrl === deadUrl ? [502, 502] : [200, 429]);
      await rawRequest(url, "GET /elsewhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }
    assert.ok(lines.length >= 4, "the proxy logged its requests");
    assert.deepEqual(lines.filter((line) => line.includes(KEY)), []);
  });
});
