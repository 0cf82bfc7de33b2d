// The one upstream a keyless proxy may reach, and how its real key is presented. A request
// is forwarded only when its path stays under the provider's base URL (and names one of the
// inference endpoints of proxy-routes.ts); the client's own key headers are always dropped,
// so a worker can neither leak nor choose a key.
import { AgentisoError } from "../core/errors.js";

export type ProviderKind = "openai" | "openai-compatible" | "anthropic";

export interface LlmProviderConfig {
  kind: ProviderKind;
  /** e.g. https://api.openai.com/v1, https://api.anthropic.com/v1, http://127.0.0.1:8080/v1 */
  baseUrl: string;
  /** The real key. Only ever sent upstream; never logged, never given to a workspace. */
  apiKey: string;
}

/** Headers a client could use to send a key of its own; all are removed before forwarding. */
export const CLIENT_KEY_HEADERS = ["authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key"] as const;

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "host", "accept-encoding"]);
/** Headers some servers read as the real method (a POST that acts as DELETE): never forwarded. */
const METHOD_OVERRIDES = new Set(["x-http-method-override", "x-http-method", "x-method-override"]);

// Parses and checks the base URL once (http/https only), so later checks compare URLs.
export function parseProviderBase(provider: LlmProviderConfig): URL {
  let base: URL;
  try {
    base = new URL(provider.baseUrl);
  } catch {
    throw new AgentisoError("INVALID_INPUT", `provider base URL ${JSON.stringify(provider.baseUrl)} is not a URL`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new AgentisoError("INVALID_INPUT", `provider base URL must be http or https, got ${base.protocol}`);
  }
  if (base.username || base.password) throw new AgentisoError("INVALID_INPUT", "put the provider key in apiKey, not in the base URL");
  base.pathname = base.pathname.replace(/\/+$/, "");
  base.search = "";
  base.hash = "";
  return base;
}

// The upstream URL for a client's request target, or undefined when it would leave the provider.
export function upstreamUrlFor(base: URL, requestTarget: string): URL | undefined {
  // origin-form only: absolute-form ("http://other/...") and authority-form are proxy tricks
  if (!requestTarget.startsWith("/") || requestTarget.startsWith("//")) return undefined;
  let url: URL;
  try {
    url = new URL(requestTarget, base.origin); // resolves "..", "%2e%2e" before the check below
  } catch {
    return undefined;
  }
  if (url.origin !== base.origin) return undefined;
  if (url.pathname !== base.pathname && !url.pathname.startsWith(base.pathname + "/")) return undefined;
  return url;
}

// Client headers minus hop-by-hop and key headers, plus the provider's real auth.
export function upstreamHeaders(provider: LlmProviderConfig, base: URL, clientHeaders: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(clientHeaders)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || METHOD_OVERRIDES.has(lower) || (CLIENT_KEY_HEADERS as readonly string[]).includes(lower)) continue;
    headers[lower] = value;
  }
  headers.host = base.host;
  headers["accept-encoding"] = "identity"; // usage is read from the body: keep it uncompressed
  if (provider.kind === "anthropic") {
    headers["x-api-key"] = provider.apiKey;
    headers["anthropic-version"] ??= "2023-06-01";
  } else {
    headers.authorization = `Bearer ${provider.apiKey}`;
  }
  return headers;
}

// Response headers safe to copy back to the client.
export function downstreamHeaders(upstream: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) headers[name] = value;
  }
  return headers;
}
