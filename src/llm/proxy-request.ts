// A client's request as the proxy forwards it. The body is read whole (bounded) first: the
// proxy must know what a request may cost before sending it (the task's reservation), and it
// makes every streamed chat completion report its usage (stream_options.include_usage), so a
// client that leaves that out is metered all the same. When a response still reports no usage
// (a stream cut short, a server that ignores include_usage), the charge is estimated from the
// bytes that went each way rather than waved through.
import type { IncomingMessage } from "node:http";
import type { InferenceRoute } from "./proxy-routes.js";
import { finishUsage, isRecord, zeroUsage, type PartialUsage, type TokenUsage } from "./token-usage.js";

export const MAX_REQUEST_BODY_BYTES = 32 * 1024 * 1024;
/** Output tokens reserved for a request that names no max_tokens. */
export const DEFAULT_OUTPUT_RESERVE = 4096;
/** Bytes of JSON per token, rounded down: estimates from it err on the high side. */
const BYTES_PER_TOKEN = 4;
const MAX_CHOICES = 128;

/** A request answered by the proxy itself, with an HTTP status and a provider-style error. */
export class ProxyRefusal {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly message: string,
  ) {}
}

export interface PreparedRequest {
  /** What goes upstream (re-serialised only when the proxy changed it). */
  body: Buffer;
  /** What the request may cost: reserved against the task's budget until its usage is known. */
  estimate: TokenUsage;
}

// The whole body, or a refusal: 413 past `maxBytes` (the rest is drained unread), 400 when
// the client went away before sending all of it.
export function readRequestBody(req: IncomingMessage, maxBytes = MAX_REQUEST_BODY_BYTES): Promise<Buffer | ProxyRefusal> {
  const tooLarge = new ProxyRefusal(413, "agentiso_request_too_large", `agentiso proxy: request body over ${maxBytes} bytes`);
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) return Promise.resolve(tooLarge);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      req.off("data", onData);
      chunks.length = 0;
      req.resume();
      resolve(tooLarge);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("close", () => resolve(new ProxyRefusal(400, "agentiso_bad_request", "agentiso proxy: the client went away mid-request")));
    req.once("error", reject);
  });
}

// Checks a billed request's body, adds include_usage to streamed chat completions and
// estimates the cost; free requests (model lists, token counts) go as they are.
export function prepareRequest(route: InferenceRoute, raw: Buffer): PreparedRequest | ProxyRefusal {
  if (!route.billed) return { body: raw, estimate: zeroUsage() };
  const body = parseObject(raw);
  if (!body) return new ProxyRefusal(400, "agentiso_bad_request", `agentiso proxy: the body of a ${route.endpoint} request must be a JSON object`);
  if (route.endpoint === "responses" && body.background === true) {
    return new ProxyRefusal(400, "agentiso_bad_request", "agentiso proxy: background responses are not forwarded (their usage could not be metered); send the request without background");
  }
  let changed = false;
  if ((route.endpoint === "chat" || route.endpoint === "completions") && body.stream === true) {
    const options = isRecord(body.stream_options) ? body.stream_options : {};
    if (options.include_usage !== true) {
      body.stream_options = { ...options, include_usage: true };
      changed = true;
    }
  }
  const estimate = { ...zeroUsage(), input: inputEstimate(raw.length), output: outputReserve(route, body) };
  return { body: changed ? Buffer.from(JSON.stringify(body)) : raw, estimate };
}

export interface ResponseOutcome {
  route: InferenceRoute;
  status: number;
  /** The response ended normally (not cut by the client, the provider or a timeout). */
  complete: boolean;
  /** Usage the response reported (possibly none, possibly partial). */
  reported: PartialUsage;
  requestBytes: number;
  responseBytes: number;
}

// What a finished response is charged: its reported usage when it reported it in full; else
// an estimate (input from the request's size, output from the bytes that came back) for
// whatever is missing. Errors and free requests are charged what they reported, if anything.
export function usageToCharge(outcome: ResponseOutcome): { usage: TokenUsage; estimated: boolean } {
  const reported = finishUsage(outcome.reported);
  const reportedAny = Object.keys(outcome.reported).length > 0;
  if (!outcome.route.billed || outcome.status >= 400 || (outcome.complete && reportedAny)) return { usage: reported, estimated: false };
  const output = Math.max(reported.output, Math.ceil(outcome.responseBytes / BYTES_PER_TOKEN));
  const input = outcome.reported.input ?? inputEstimate(outcome.requestBytes);
  return { usage: { ...reported, input, output }, estimated: true };
}

function inputEstimate(bytes: number): number {
  return Math.ceil(bytes / BYTES_PER_TOKEN);
}

// The output the request asks for at most (times its choices), or the default reserve.
function outputReserve(route: InferenceRoute, body: Record<string, unknown>): number {
  if (route.endpoint === "embeddings") return 0;
  const asked = [body.max_completion_tokens, body.max_tokens, body.max_output_tokens].find((v): v is number => typeof v === "number" && Number.isInteger(v) && v > 0);
  const choices = typeof body.n === "number" && Number.isInteger(body.n) && body.n > 1 ? Math.min(body.n, MAX_CHOICES) : 1;
  return (asked ?? DEFAULT_OUTPUT_RESERVE) * choices;
}

function parseObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString("utf8"));
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
