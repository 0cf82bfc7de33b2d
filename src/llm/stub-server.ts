// An OpenAI-compatible model that answers from a script, for tests and offline demos:
// POST /v1/chat/completions (SSE or JSON), GET /v1/models. It records every request so tests
// can assert what the client sent (tools offered, keys, turns) and the tokens it was billed.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { delay } from "../core/deadline.js";
import { AgentisoError } from "../core/errors.js";
import { silentLogger, type Logger } from "../core/logger.js";
import { chooseReply, viewChatRequest, type ChosenReply } from "./stub-reply.js";
import { completionBody, sseLine, streamChunks, writeError, type ReplyContext } from "./stub-responses.js";
import { parseStubScript, StubStormSchema, type StubScript, type StubScriptInput, type StubStorm } from "./stub-script.js";

export interface StubServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  script?: StubScript | StubScriptInput;
  logger?: Logger;
}

export interface StubRequestRecord {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (undefined for GET). */
  body: unknown;
  tools: string[];
  stream: boolean;
  assistantTurns: number;
  rule: string | undefined;
  stepIndex: number;
  status: number;
  /** Tokens this response reported (absent for errors and non-completion requests). */
  usage: { promptTokens: number; completionTokens: number } | undefined;
}

export interface StubServer extends AsyncDisposable {
  /** Base URL including /v1, e.g. http://127.0.0.1:41234/v1 */
  url: string;
  requests: StubRequestRecord[];
  /** Tokens reported over all successful completions so far. */
  usageTotals(): { promptTokens: number; completionTokens: number };
  /** Starts a storm now: the next `requests` chat completions get 429/503 (replaces one under way). */
  storm(storm: StubStorm): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

// Starts the stub on loopback and resolves once it listens.
export async function startStubServer(options: StubServerOptions = {}): Promise<StubServer> {
  const script = parseStubScript(options.script ?? {});
  const logger = options.logger ?? silentLogger;
  const requests: StubRequestRecord[] = [];
  const closing = new AbortController();
  let counter = 0;
  const storm = { current: script.storm && { ...script.storm } };
  const server = createServer((req, res) => {
    handle(req, res, { script, requests, storm, closing: closing.signal, nextId: () => `stub${++counter}` }).catch((err: unknown) => {
      logger.warn("stub request failed", { err });
      if (!res.headersSent) writeError(res, 500, "stub: internal error");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address}:${address.port}/v1`;
  logger.info("llm stub listening", { url });
  const close = async () => {
    closing.abort(new AgentisoError("CANCELLED", "stub server closed"));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url,
    requests,
    usageTotals: () => sumUsage(requests),
    storm: (next) => void (storm.current = StubStormSchema.parse(next)),
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface HandlerContext {
  script: StubScript;
  requests: StubRequestRecord[];
  /** The storm under way; its `requests` counts down. */
  storm: { current: StubScript["storm"] };
  closing: AbortSignal;
  nextId: () => string;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void> {
  const path = new URL(req.url ?? "/", "http://stub").pathname;
  const record: StubRequestRecord = {
    method: req.method ?? "GET",
    path,
    headers: { ...req.headers },
    body: undefined,
    tools: [],
    stream: false,
    assistantTurns: 0,
    rule: undefined,
    stepIndex: 0,
    status: 200,
    usage: undefined,
  };
  ctx.requests.push(record);
  if (req.method === "GET" && /^(\/v1)?\/models$/.test(path)) {
    const data = ctx.script.models.map((id) => ({ id, object: "model", created: 0, owned_by: "agentiso-stub" }));
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data }));
    return;
  }
  if (req.method !== "POST" || !/^(\/v1)?\/chat\/completions$/.test(path)) {
    record.status = 404;
    return writeError(res, 404, `stub: no route for ${req.method} ${path}`);
  }
  const body = await readJsonBody(req);
  if (!body) {
    record.status = 400;
    return writeError(res, 400, "stub: request body must be a JSON object");
  }
  record.body = body;
  const storm = ctx.storm.current;
  if (storm && storm.requests > 0) {
    storm.requests--;
    record.status = storm.status;
    return writeError(res, storm.status, "stub: rate limited (scripted storm)", storm.retryAfterSeconds);
  }
  const view = viewChatRequest(body);
  const chosen = chooseReply(ctx.script, view);
  Object.assign(record, { tools: view.tools, stream: view.stream, assistantTurns: view.assistantTurns, rule: chosen.rule, stepIndex: chosen.stepIndex });
  await answer(res, chosen, record, { ...ctx, model: view.model, includeUsage: view.includeUsage });
}

async function answer(res: ServerResponse, chosen: ChosenReply, record: StubRequestRecord, ctx: HandlerContext & { model: string; includeUsage: boolean }): Promise<void> {
  const { step } = chosen;
  if (step.delayMs) {
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    await delay(step.delayMs, AbortSignal.any([gone.signal, ctx.closing])).catch(() => undefined);
    if (res.destroyed) return;
  }
  if (step.fail) {
    record.status = step.fail.status;
    return writeError(res, step.fail.status, step.fail.message, step.fail.retryAfterSeconds);
  }
  const tokens = step.usage ?? ctx.script.usage;
  const usage = { prompt_tokens: tokens.promptTokens, completion_tokens: tokens.completionTokens, total_tokens: tokens.promptTokens + tokens.completionTokens };
  const reply: ReplyContext = { id: ctx.nextId(), model: ctx.model || "stub-model", usage, includeUsage: ctx.includeUsage, usageInFinalChunk: ctx.script.streamUsage === "always" };
  if (!record.stream) {
    record.usage = { ...tokens };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(completionBody(step, reply)));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const chunks = streamChunks(step, reply);
  for (const [index, chunk] of chunks.entries()) {
    if (step.cutAfterChunks !== undefined && index >= step.cutAfterChunks) {
      record.status = 0; // the client saw a broken stream, not a status
      res.destroy();
      return;
    }
    if (step.stallAfterChunks !== undefined && index >= step.stallAfterChunks) return holdSilently(res, ctx.closing);
    // waiting for each write lets a cut land after real bytes reached the client
    await new Promise<void>((resolve) => res.write(sseLine(chunk), () => resolve()));
  }
  record.usage = { ...tokens };
  res.end(sseLine("[DONE]"));
}

// A provider that stopped mid-answer: the connection stays open, nothing more comes, until
// the client gives up or the stub closes.
async function holdSilently(res: ServerResponse, closing: AbortSignal): Promise<void> {
  const gone = new AbortController();
  res.once("close", () => gone.abort());
  const over = AbortSignal.any([gone.signal, closing]);
  if (!over.aborted) await new Promise<void>((resolve) => over.addEventListener("abort", () => resolve(), { once: true }));
  res.destroy();
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function sumUsage(requests: readonly StubRequestRecord[]): { promptTokens: number; completionTokens: number } {
  return requests.reduce(
    (sum, r) => (r.usage ? { promptTokens: sum.promptTokens + r.usage.promptTokens, completionTokens: sum.completionTokens + r.usage.completionTokens } : sum),
    { promptTokens: 0, completionTokens: 0 },
  );
}
