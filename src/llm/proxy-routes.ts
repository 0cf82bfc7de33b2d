// What the proxy forwards: the inference endpoints of the provider's kind, each by method.
// The key can also list, upload and delete files, start fine-tuning and batch jobs, manage
// stored responses; none of that is a worker's business, so anything not listed here is
// refused before it reaches the provider.
import type { ProviderKind } from "./provider.js";

/** What a forwarded request does; decides how its body is read and what it may cost. */
export type InferenceEndpoint = "chat" | "completions" | "responses" | "messages" | "count-tokens" | "models" | "embeddings";

export interface InferenceRoute {
  endpoint: InferenceEndpoint;
  /** POST with a JSON body that the provider bills tokens for. */
  billed: boolean;
}

export interface RouteOptions {
  /** Also forward POST embeddings (OpenAI kinds). Off unless the operator asks for it. */
  embeddings?: boolean;
}

interface RouteRule {
  method: "GET" | "POST";
  /** Path under the provider's base URL, without the leading slash. */
  path: string;
  endpoint: InferenceEndpoint;
  /** Also PATH/<id> (one segment), e.g. models/gpt-4.1. */
  withId?: boolean;
}

const OPENAI_ROUTES: readonly RouteRule[] = [
  { method: "POST", path: "chat/completions", endpoint: "chat" },
  { method: "POST", path: "completions", endpoint: "completions" },
  { method: "POST", path: "responses", endpoint: "responses" },
  { method: "GET", path: "models", endpoint: "models", withId: true },
];

const ROUTES: Record<ProviderKind, readonly RouteRule[]> = {
  openai: OPENAI_ROUTES,
  "openai-compatible": OPENAI_ROUTES,
  anthropic: [
    { method: "POST", path: "messages", endpoint: "messages" },
    { method: "POST", path: "messages/count_tokens", endpoint: "count-tokens" },
    { method: "GET", path: "models", endpoint: "models", withId: true },
  ],
};

const EMBEDDINGS: RouteRule = { method: "POST", path: "embeddings", endpoint: "embeddings" };

const BILLED = new Set<InferenceEndpoint>(["chat", "completions", "responses", "messages", "embeddings"]);
const ID_SEGMENT = /^[A-Za-z0-9._:@-]+$/;

// The route of `method pathname` for this provider, or undefined when it is not inference.
// `pathname` is already normalised and known to be under `basePath` (see upstreamUrlFor).
export function inferenceRoute(kind: ProviderKind, basePath: string, method: string | undefined, pathname: string, options: RouteOptions = {}): InferenceRoute | undefined {
  const rest = pathname.slice(basePath.length + 1);
  const rule = rulesFor(kind, options).find((r) => r.method === method && (rest === r.path || (r.withId === true && rest.startsWith(`${r.path}/`) && ID_SEGMENT.test(rest.slice(r.path.length + 1)))));
  return rule && { endpoint: rule.endpoint, billed: BILLED.has(rule.endpoint) };
}

// "POST chat/completions, POST responses, GET models": for the refusal message.
export function describeRoutes(kind: ProviderKind, options: RouteOptions = {}): string {
  return rulesFor(kind, options).map((rule) => `${rule.method} ${rule.path}${rule.withId ? "[/ID]" : ""}`).join(", ");
}

function rulesFor(kind: ProviderKind, options: RouteOptions): readonly RouteRule[] {
  return options.embeddings && kind !== "anthropic" ? [...ROUTES[kind], EMBEDDINGS] : ROUTES[kind];
}
