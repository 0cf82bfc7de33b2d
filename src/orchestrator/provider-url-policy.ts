// Where an MCP session's orchestration may send the key and the prompts. The daemon's LLM proxy
// forwards a worker's requests to the plan's base_url, so an unchecked base_url would let a
// workspace with network "none" reach 169.254.169.254 or any host service through the daemon.
// An MCP plan's provider URL must lie under one the operator allows ([model] allowedBaseUrls),
// and must not resolve to a private, loopback or link-local address unless the operator allows
// that too. Checked before anything is created or sent. CLI callers (the host's root) are not
// limited.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { isPublicAddress } from "../core/address-ranges.js";
import { AgentisoError } from "../core/errors.js";

export interface ProviderUrlPolicy {
  allowedBaseUrls: readonly string[];
  allowPrivateBaseUrls: boolean;
}

export type AddressLookup = (hostname: string) => Promise<string[]>;

const systemLookup: AddressLookup = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

// Resolves when url is an allowed provider base URL; PERMISSION_DENIED says which rule refused it.
export async function assertProviderUrlAllowed(url: string, policy: ProviderUrlPolicy, resolveHost: AddressLookup = systemLookup): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AgentisoError("INVALID_INPUT", `model.base_url ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new AgentisoError("PERMISSION_DENIED", `model.base_url must be http(s), not ${parsed.protocol}`);
  if (parsed.username || parsed.password) throw new AgentisoError("PERMISSION_DENIED", "model.base_url must not carry credentials (the key goes in api_key_env)");
  const entry = policy.allowedBaseUrls.map((allowed) => new URL(allowed)).find((allowed) => covers(allowed, parsed));
  if (!entry) {
    throw new AgentisoError(
      "PERMISSION_DENIED",
      `model.base_url ${parsed.origin}${parsed.pathname} is not an allowed provider for MCP orchestrations (allowed: ${policy.allowedBaseUrls.join(", ") || "none"}); the operator can add it to [model] allowedBaseUrls in config.toml`,
    );
  }
  const host = bareHost(parsed.hostname);
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await resolveHost(host);
  } catch (err) {
    throw new AgentisoError("INVALID_INPUT", `cannot resolve the host of model.base_url ${parsed.origin}: ${(err as Error).message}`, { cause: err });
  }
  const explicit = isIP(bareHost(entry.hostname)) ? bareHost(entry.hostname) : undefined;
  const refused = addresses.find((address) => !isPublicAddress(address) && address !== explicit && !policy.allowPrivateBaseUrls);
  if (refused !== undefined || addresses.length === 0) {
    throw new AgentisoError(
      "PERMISSION_DENIED",
      `model.base_url ${parsed.origin} resolves to ${refused ?? "no address"}, a private, loopback or link-local address: refused for MCP orchestrations unless the operator sets [model] allowPrivateBaseUrls = true or lists that address itself`,
    );
  }
}

// Same scheme, host and port, and the path equal to the entry's or below it (segment-wise).
function covers(allowed: URL, url: URL): boolean {
  if (allowed.protocol !== url.protocol || allowed.hostname !== url.hostname || allowed.port !== url.port) return false;
  const base = allowed.pathname.replace(/\/+$/, "");
  const path = url.pathname.replace(/\/+$/, "");
  return path === base || path.startsWith(base + "/");
}

function bareHost(hostname: string): string {
  return hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
}
