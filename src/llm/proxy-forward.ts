// Forwards one client request to the provider: refuses targets outside the provider and
// tasks over budget, swaps in the real key, streams the answer back byte for byte while
// metering its usage. Errors answer JSON `{error: {message, type}}` like the providers do.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Logger } from "../core/logger.js";
import { downstreamHeaders, upstreamHeaders, upstreamUrlFor, type LlmProviderConfig } from "./provider.js";
import { ResponseUsageMeter } from "./response-usage-meter.js";
import type { TaskSpend } from "./task-spend.js";
import { finishUsage } from "./token-usage.js";

export interface ForwardContext {
  provider: LlmProviderConfig;
  base: URL;
  spend: TaskSpend;
  logger: Logger;
  /** Upstream gets this long to start answering. */
  upstreamTimeoutMs: number;
}

// Handles one request end to end; never throws (failures become HTTP errors or a reset).
export function forwardRequest(req: IncomingMessage, res: ServerResponse, ctx: ForwardContext): void {
  const log = ctx.logger.child({ taskId: ctx.spend.taskId, method: req.method, path: safePath(req.url) });
  const target = upstreamUrlFor(ctx.base, req.url ?? "");
  if (!target) {
    log.warn("llm proxy refused a target outside the provider");
    req.resume();
    return sendError(res, 403, "agentiso_proxy_refused", `agentiso proxy: only ${ctx.base.origin}${ctx.base.pathname}/... is reachable through this proxy`);
  }
  const exhausted = ctx.spend.exhausted();
  if (exhausted) {
    ctx.spend.countRefused();
    log.warn("llm proxy refused a request over budget");
    req.resume();
    return sendError(res, 429, "agentiso_budget_exceeded", `agentiso proxy: ${exhausted}; no further model requests are allowed for this task`);
  }
  ctx.spend.countRequest();
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const upstream = send(target, { method: req.method, headers: upstreamHeaders(ctx.provider, ctx.base, req.headers), timeout: ctx.upstreamTimeoutMs });
  upstream.on("timeout", () => upstream.destroy(new Error("upstream did not answer in time")));
  upstream.on("error", (err) => {
    log.warn("llm proxy upstream failed", { error: err.message });
    if (!res.headersSent) sendError(res, 502, "agentiso_upstream_failed", `agentiso proxy: provider unreachable: ${err.message}`);
    else res.destroy();
  });
  upstream.on("response", (answer) => relayResponse(answer, res, ctx, log));
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

function relayResponse(answer: IncomingMessage, res: ServerResponse, ctx: ForwardContext, log: Logger): void {
  upstreamTimeoutOff(answer);
  const meter = new ResponseUsageMeter(header(answer.headers["content-type"]));
  res.writeHead(answer.statusCode ?? 502, downstreamHeaders(answer.headers));
  answer.on("data", (chunk: Buffer) => meter.push(chunk));
  let recorded = false;
  const record = () => {
    if (recorded) return;
    recorded = true;
    const usage = finishUsage(meter.finish());
    ctx.spend.record(usage);
    log.info("llm proxy request done", { status: answer.statusCode, complete: answer.complete, usage });
  };
  // "end" is registered before pipe(), so usage is counted before the client sees the last byte;
  // "close" covers a stream the client dropped halfway: it still counts what it used
  answer.once("end", record);
  answer.once("close", record);
  answer.on("error", () => res.destroy());
  answer.pipe(res);
}

// The request timeout guards the wait for headers only; a long stream is fine.
function upstreamTimeoutOff(answer: IncomingMessage): void {
  answer.socket?.setTimeout(0);
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: { message, type, code: type } }));
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

// Paths go into logs: drop the query string, where some clients put keys (?key=...).
function safePath(url: string | undefined): string {
  return (url ?? "").split("?")[0]!.slice(0, 200);
}
