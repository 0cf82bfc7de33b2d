// The proxy rides out provider throttling: 429/503 are waited out (Retry-After, else backoff)
// and the buffered request replayed, all tasks wait together while the provider throttles,
// upstream concurrency is bounded over all tasks, a stream already relayed is never replayed,
// and each task counts the throttled answers it got.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "../../src/core/logger.js";
import { LlmProxy } from "../../src/llm/proxy.js";

const KEY = "sk-real-throttle-5e6f7a8b";
type Answer = (req: IncomingMessage, res: ServerResponse) => void;

interface FakeUpstream {
  url: string;
  /** When each request arrived (ms since the upstream started), in order. */
  arrivals: number[];
  /** Most requests the upstream held open at once. */
  maxInFlight: () => number;
  close: () => Promise<void>;
}

// Answers request i with answers[i] (the last repeats), after reading the body.
async function fakeUpstream(answers: Answer[]): Promise<FakeUpstream> {
  const started = performance.now();
  const arrivals: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    const index = arrivals.length;
    arrivals.push(performance.now() - started);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.once("close", () => inFlight--);
    req.resume();
    req.once("end", () => answers[Math.min(index, answers.length - 1)]!(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    arrivals,
    maxInFlight: () => maxInFlight,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const ok: Answer = (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ usage: { prompt_tokens: 3, completion_tokens: 2 } }));
const rateLimited = (retryAfter?: string): Answer => (_req, res) =>
  res.writeHead(429, { "content-type": "application/json", ...(retryAfter !== undefined && { "retry-after": retryAfter }) }).end('{"error":{"message":"slow down"}}');
const overloaded: Answer = (_req, res) => res.writeHead(503, { "content-type": "application/json" }).end('{"error":{"message":"overloaded"}}');
const slowOk: Answer = (req, res) => void setTimeout(() => ok(req, res), 100);

function chat(url: string): Promise<Response> {
  return fetch(`${url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }) });
}

function proxyFor(upstream: FakeUpstream, extra: Partial<ConstructorParameters<typeof LlmProxy>[0]> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", write: (line) => lines.push(line) });
  const proxy = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: upstream.url, apiKey: KEY }, logger, throttle: { baseBackoffMs: 50, maxBackoffMs: 200 }, ...extra });
  return { proxy, lines };
}

describe("llm proxy throttling", () => {
  test("a 429 with Retry-After is waited out and the request replayed: the client sees only the 200, the task counts one throttled answer", async () => {
    const upstream = await fakeUpstream([rateLimited("1"), ok]);
    try {
      const { proxy, lines } = proxyFor(upstream);
      await using task = proxy.forTask("t1");
      const res = await chat(await task.listen());
      assert.equal(res.status, 200);
      assert.equal(upstream.arrivals.length, 2);
      assert.ok(upstream.arrivals[1]! - upstream.arrivals[0]! >= 950, `replayed after ${upstream.arrivals[1]! - upstream.arrivals[0]!} ms, Retry-After said 1 s`);
      assert.equal(task.throttled(), 1);
      assert.deepEqual(task.usage().tokens.input, 3, "only the answer that came through is charged");
      assert.ok(lines.some((l) => l.includes("upstream throttled")));
      assert.ok(lines.every((l) => !l.includes(KEY)), "the key is in no log line");
    } finally {
      await upstream.close();
    }
  });

  test("a 503 without Retry-After is retried after a backoff", async () => {
    const upstream = await fakeUpstream([overloaded, overloaded, ok]);
    try {
      const { proxy } = proxyFor(upstream);
      await using task = proxy.forTask("t1");
      assert.equal((await chat(await task.listen())).status, 200);
      assert.equal(upstream.arrivals.length, 3);
      assert.equal(task.throttled(), 2);
    } finally {
      await upstream.close();
    }
  });

  test("past the attempts allowed the last throttled answer is passed on, Retry-After and all", async () => {
    const upstream = await fakeUpstream([rateLimited("0")]);
    try {
      const { proxy } = proxyFor(upstream, { throttle: { maxAttempts: 3 } });
      await using task = proxy.forTask("t1");
      const res = await chat(await task.listen());
      assert.equal(res.status, 429);
      assert.equal(res.headers.get("retry-after"), "0");
      assert.match(await res.text(), /slow down/);
      assert.equal(upstream.arrivals.length, 3);
      assert.equal(task.throttled(), 3);
    } finally {
      await upstream.close();
    }
  });

  test("while the provider throttles one task, another task's request waits for the same pause", async () => {
    const upstream = await fakeUpstream([rateLimited("1"), ok]);
    try {
      const { proxy } = proxyFor(upstream);
      await using first = proxy.forTask("first");
      await using second = proxy.forTask("second");
      const firstDone = chat(await first.listen());
      const secondUrl = await second.listen();
      while (upstream.arrivals.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 100)); // the 429 has reached the proxy
      const secondSent = performance.now();
      const [a, b] = await Promise.all([firstDone, chat(secondUrl)]);
      assert.deepEqual([a.status, b.status], [200, 200]);
      assert.equal(upstream.arrivals.length, 3, "the second task's request was sent once, after the pause");
      assert.ok(Math.min(upstream.arrivals[1]!, upstream.arrivals[2]!) - upstream.arrivals[0]! >= 950, `nothing went upstream during the pause: ${upstream.arrivals.join(", ")}`);
      assert.ok(performance.now() - secondSent >= 700);
      assert.equal(first.throttled(), 1);
      assert.equal(second.throttled(), 0, "only the task that got the 429 counts it");
    } finally {
      await upstream.close();
    }
  });

  test("max_concurrency bounds the upstream requests in flight over all tasks", async () => {
    const upstream = await fakeUpstream([slowOk]);
    try {
      const { proxy } = proxyFor(upstream, { maxConcurrency: 2 });
      await using a = proxy.forTask("a");
      await using b = proxy.forTask("b");
      const [urlA, urlB] = [await a.listen(), await b.listen()];
      const answers = await Promise.all([chat(urlA), chat(urlA), chat(urlA), chat(urlB), chat(urlB), chat(urlB)]);
      assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
      assert.equal(upstream.arrivals.length, 6);
      assert.equal(upstream.maxInFlight(), 2);
    } finally {
      await upstream.close();
    }
  });

  test("a streamed answer that breaks after it began is passed on broken, never replayed", async () => {
    const brokenStream: Answer = (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('data: {"choices":[{"delta":{"content":"par"}}]}\n\n', () => res.destroy());
    };
    const upstream = await fakeUpstream([brokenStream, ok]);
    try {
      const { proxy } = proxyFor(upstream);
      await using task = proxy.forTask("t1");
      const res = await chat(await task.listen());
      assert.equal(res.status, 200);
      await assert.rejects(res.text());
      assert.equal(upstream.arrivals.length, 1);
      assert.equal(task.throttled(), 0);
    } finally {
      await upstream.close();
    }
  });

  test("a client that leaves while its request waits out a pause is never sent upstream again", async () => {
    const upstream = await fakeUpstream([rateLimited("1"), ok]);
    try {
      const { proxy } = proxyFor(upstream);
      await using task = proxy.forTask("t1", { maxTokens: 5000 });
      const url = await task.listen();
      const gone = new AbortController();
      const res = fetch(`${url}/chat/completions`, { method: "POST", body: '{"messages":[]}', signal: gone.signal });
      while (upstream.arrivals.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 100));
      gone.abort();
      await assert.rejects(res);
      await new Promise((resolve) => setTimeout(resolve, 1300));
      assert.equal(upstream.arrivals.length, 1);
      assert.equal(task.usage().tokens.input + task.usage().tokens.output, 0, "a throttled answer costs nothing");
      const next = await fetch(`${url}/chat/completions`, { method: "POST", body: '{"messages":[],"max_tokens":4000}' });
      assert.equal(next.status, 200, "the reservation of the abandoned request was released");
    } finally {
      await upstream.close();
    }
  });
});
