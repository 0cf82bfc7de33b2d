// Forwards one client request to the provider: refuses targets outside the provider, anything
// but its inference endpoints and tasks over budget; reserves what the request may cost,
// swaps in the real key, waits out provider throttling (429/503) for all tasks together,
// streams the answer back byte for byte while metering its usage, then settles the
// reservation with that usage. Errors answer JSON `{error: {message, type}}` like
// the providers do.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../core/logger.js";
import { downstreamHeaders, upstreamHeaders, upstreamUrlFor, type LlmProviderConfig } from "./provider.js";
import { prepareRequest, ProxyRefusal, readRequestBody, usageToCharge, type PreparedRequest } from "./proxy-request.js";
import { describeRoutes, inferenceRoute, type InferenceRoute, type RouteOptions } from "./proxy-routes.js";
import type { ProviderGate } from "./provider-gate.js";
import { attemptUpstream } from "./proxy-upstream.js";
import { ResponseUsageMeter } from "./response-usage-meter.js";
import { isThrottleStatus, throttleWaitMs, type ThrottlePolicy } from "./throttle-policy.js";
import type { Reservation, TaskSpend } from "./task-spend.js";
import { zeroUsage } from "./token-usage.js";

export interface ForwardContext {
  provider: LlmProviderConfig;
  base: URL;
  spend: TaskSpend;
  logger: Logger;
  /** Upstream gets this long to start answering. */
  upstreamTimeoutMs: number;
  routes: RouteOptions;
  /** Shared by all tasks of the proxy (gate, policy); the counter is this task's. */
  throttle: { gate: ProviderGate; policy: ThrottlePolicy; counter: { count: number } };
}

interface Admitted {
  target: URL;
  route: InferenceRoute;
  prepared: PreparedRequest;
  reservation: Reservation;
}

// Handles one request end to end; never throws (failures become HTTP errors or a reset).
export function forwardRequest(req: IncomingMessage, res: ServerResponse, ctx: ForwardContext): void {
  const log = ctx.logger.child({ taskId: ctx.spend.taskId, method: req.method, path: safePath(req.url) });
  admit(req, ctx).then(
    (admitted) => {
      if (!(admitted instanceof ProxyRefusal)) {
        return void send(req, res, admitted, ctx, log).catch((err: unknown) => {
          log.warn("llm proxy failed mid-request", { error: (err as Error).message });
          res.destroy();
        });
      }
      log.warn("llm proxy refused a request", { status: admitted.status, type: admitted.type });
      if (!req.complete) req.resume();
      sendError(res, admitted);
    },
    (err: unknown) => {
      log.warn("llm proxy could not read a request", { error: (err as Error).message });
      res.destroy();
    },
  );
}

// The checks, in order of cost: where it goes, what it is, what it may spend.
async function admit(req: IncomingMessage, ctx: ForwardContext): Promise<Admitted | ProxyRefusal> {
  const { base, provider } = ctx;
  const target = upstreamUrlFor(base, req.url ?? "");
  if (!target) return refused(403, `only ${base.origin}${base.pathname}/... is reachable through this proxy`);
  const route = inferenceRoute(provider.kind, base.pathname, req.method, target.pathname, ctx.routes);
  if (!route) {
    return refused(403, `${req.method} ${target.pathname} is not forwarded: this proxy lends the key for inference only (${describeRoutes(provider.kind, ctx.routes)} under ${base.pathname}/)`);
  }
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding !== "identity") {
    return new ProxyRefusal(415, "agentiso_bad_request", "agentiso proxy: compressed request bodies are not forwarded; send the body uncompressed");
  }
  const body = await readRequestBody(req);
  if (body instanceof ProxyRefusal) return body;
  const prepared = prepareRequest(route, body);
  if (prepared instanceof ProxyRefusal) return prepared;
  const reservation = ctx.spend.reserve(prepared.estimate);
  if (typeof reservation === "string") {
    return new ProxyRefusal(429, "agentiso_budget_exceeded", `agentiso proxy: ${reservation}; no further model requests are allowed for this task`);
  }
  return { target, route, prepared, reservation };
}

// Sends the request through the provider gate; a 429 or 503 is waited out and the buffered
// body replayed (throttle-policy.ts) as long as the policy allows, the last one passed on.
async function send(req: IncomingMessage, res: ServerResponse, admitted: Admitted, ctx: ForwardContext, log: Logger): Promise<void> {
  const { target, route, prepared, reservation } = admitted;
  const requestBytes = prepared.body.length;
  const headers = { ...upstreamHeaders(ctx.provider, ctx.base, req.headers), "content-length": String(requestBytes) };
  const clientGone = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) clientGone.abort(new Error("the client went away"));
  });
  let waitedMs = 0;
  for (let attempt = 1; ; attempt++) {
    const release = await ctx.throttle.gate.acquire(clientGone.signal).catch(() => undefined);
    if (!release) return reservation.settle(zeroUsage());
    const outcome = await attemptUpstream({ target, method: req.method ?? "POST", headers, body: prepared.body, timeoutMs: ctx.upstreamTimeoutMs, signal: clientGone.signal });
    if ("error" in outcome) {
      release();
      log.warn("llm proxy upstream failed", { error: outcome.error.message });
      // No answer came: a request the provider received may still have cost its input.
      reservation.settle(outcome.sent ? usageToCharge({ route, status: 0, complete: false, reported: {}, requestBytes, responseBytes: 0 }).usage : zeroUsage());
      return sendError(res, new ProxyRefusal(502, "agentiso_upstream_failed", `agentiso proxy: provider unreachable: ${outcome.error.message}`));
    }
    const { answer } = outcome;
    const status = answer.statusCode ?? 502;
    if (isThrottleStatus(status)) {
      ctx.throttle.counter.count++;
      const waitMs = throttleWaitMs(header(answer.headers["retry-after"]), attempt, ctx.throttle.policy);
      const retry = attempt < ctx.throttle.policy.maxAttempts && waitedMs + waitMs <= ctx.throttle.policy.maxTotalWaitMs;
      log.warn("llm proxy upstream throttled", { status, attempt, ...(retry ? { waitMs } : { givingUp: true }) });
      if (retry) {
        answer.resume();
        release();
        ctx.throttle.gate.pause(waitMs);
        waitedMs += waitMs;
        continue;
      }
    }
    answer.once("close", release);
    return relayResponse(answer, res, { route, requestBytes, reservation, log });
  }
}

interface Relay {
  route: InferenceRoute;
  requestBytes: number;
  reservation: Reservation;
  log: Logger;
}

function relayResponse(answer: IncomingMessage, res: ServerResponse, relay: Relay): void {
  const meter = new ResponseUsageMeter(header(answer.headers["content-type"]));
  const status = answer.statusCode ?? 502;
  res.writeHead(status, downstreamHeaders(answer.headers));
  answer.on("data", (chunk: Buffer) => meter.push(chunk));
  let recorded = false;
  const record = (complete: boolean) => {
    if (recorded) return;
    recorded = true;
    const { usage, estimated } = usageToCharge({ route: relay.route, status, complete, reported: meter.finish(), requestBytes: relay.requestBytes, responseBytes: meter.bytes });
    relay.reservation.settle(usage);
    relay.log.info("llm proxy request done", { status, complete, usage, ...(estimated && { estimated }) });
  };
  // "end" is registered before pipe(), so usage is counted before the client sees the last byte;
  // "close" covers a stream the client dropped halfway: it is charged what it used (estimated)
  answer.once("end", () => record(answer.complete));
  answer.once("close", () => record(false));
  answer.on("error", () => res.destroy());
  answer.pipe(res);
}

function refused(status: number, reason: string): ProxyRefusal {
  return new ProxyRefusal(status, "agentiso_proxy_refused", `agentiso proxy: ${reason}`);
}

function sendError(res: ServerResponse, refusal: ProxyRefusal): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ error: { message: refusal.message, type: refusal.type, code: refusal.type } });
  // A body left unread (over the size cap) must not be parsed as the next request.
  const close = refusal.status === 413 ? { connection: "close" } : {};
  res.writeHead(refusal.status, { "content-type": "application/json", ...close }).end(body);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

// Paths go into logs: drop the query string, where some clients put keys (?key=...).
function safePath(url: string | undefined): string {
  return (url ?? "").split("?")[0]!.slice(0, 200);
}
