// A workspace's network policy (issue 13): `none`, `egress`, or `allowlist` with `allow` and
// `deny` entries. An entry is a DNS name, optionally with one leading wildcard label
// ("*.pythonhosted.org": any name below it, not the name itself), or a CIDR range; either
// with an optional port ("github.com:443", "10.1.2.3/32:5432", "[2001:db8::/32]:443").
// Entries become words of an nft script and keys of the DNS gate, so each is validated here
// and written back in one canonical spelling; a bad one is INVALID_INPUT naming it.
import { AgentisoError } from "./errors.js";
import { BlockList } from "node:net";
import { parseCidr } from "./cidr.js";
import { isPublicAddress, NON_PUBLIC_V4, NON_PUBLIC_V6 } from "./address-ranges.js";

export type NetworkMode = "none" | "egress" | "allowlist";

export interface NetworkPolicy {
  mode: NetworkMode;
  /** allowlist only: what the workspace may reach (canonical entries). */
  allow: string[];
  /** allowlist only: exceptions to `allow` (deny wins), without ports. */
  deny: string[];
}

export type AllowEntry =
  | { kind: "name"; name: string; wildcard: boolean; port?: number }
  | { kind: "cidr"; cidr: string; port?: number };

/** At most this many entries in allow and in deny: each is a rule or a name to match. */
export const MAX_POLICY_ENTRIES = 256;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

// Parses one entry; INVALID_INPUT saying what is wrong with it and what would be right.
export function parseAllowEntry(text: string): AllowEntry {
  const raw = String(text).trim().toLowerCase();
  const bad = (why: string) => new AgentisoError("INVALID_INPUT", `network entry ${JSON.stringify(text)} ${why}: use a name ("registry.npmjs.org", "*.pythonhosted.org", "github.com:443") or a CIDR ("10.1.2.3/32:5432", "[2001:db8::/32]:443")`);
  let host = raw;
  let portText: string | undefined;
  if (raw.startsWith("[")) {
    const close = raw.indexOf("]");
    if (close < 0) throw bad("has no closing ]");
    host = raw.slice(1, close);
    const rest = raw.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) throw bad("has text after ]");
    portText = rest === "" ? undefined : rest.slice(1);
  } else if ((raw.match(/:/g) ?? []).length === 1) {
    [host, portText] = raw.split(":") as [string, string];
  }
  const port = portText === undefined ? undefined : parsePort(portText, bad);
  const withPort = <T extends AllowEntry>(entry: T): T => (port === undefined ? entry : { ...entry, port });
  if (/^[0-9.]+(\/\d+)?$/.test(host) || host.includes(":")) {
    try {
      return withPort({ kind: "cidr", cidr: parseCidr(host) });
    } catch {
      throw bad("is not a valid address or CIDR range");
    }
  }
  const wildcard = host.startsWith("*.");
  const name = wildcard ? host.slice(2) : host.replace(/\.$/, "");
  const labels = name.split(".");
  if (name.length === 0 || name.length > 253 || !labels.every((label) => LABEL.test(label))) throw bad("is not a DNS name (letters, digits and hyphens in dot-separated labels, one leading *. at most)");
  if (wildcard && labels.length < 2) throw bad("has a wildcard over a top-level domain");
  return withPort({ kind: "name", name, wildcard });
}

function parsePort(text: string, bad: (why: string) => Error): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw bad("has a port outside 1-65535");
  return port;
}

// The canonical spelling of an entry (what is stored and shown).
export function formatAllowEntry(entry: AllowEntry): string {
  const host = entry.kind === "name" ? `${entry.wildcard ? "*." : ""}${entry.name}` : entry.cidr;
  if (entry.port === undefined) return host;
  return entry.kind === "cidr" && entry.cidr.includes(":") ? `[${host}]:${entry.port}` : `${host}:${entry.port}`;
}

// Validates a list and returns it canonical and without duplicates; `what` names it in errors.
export function parseAllowList(entries: readonly string[], what = "allow"): string[] {
  if (entries.length > MAX_POLICY_ENTRIES) throw new AgentisoError("INVALID_INPUT", `${what} has ${entries.length} entries: at most ${MAX_POLICY_ENTRIES}`);
  return [...new Set(entries.map((entry) => formatAllowEntry(parseAllowEntry(entry))))];
}

// A validated policy: the lists only in allowlist mode, and allowlist only with something to allow.
export function normalizePolicy(input: { mode: NetworkMode; allow?: readonly string[]; deny?: readonly string[] }): NetworkPolicy {
  if (input.mode !== "allowlist") {
    if ((input.allow?.length ?? 0) > 0 || (input.deny?.length ?? 0) > 0) throw new AgentisoError("INVALID_INPUT", `allow and deny entries need mode allowlist (mode is ${input.mode})`);
    return { mode: input.mode, allow: [], deny: [] };
  }
  const allow = parseAllowList(input.allow ?? [], "allow");
  if (allow.length === 0) throw new AgentisoError("INVALID_INPUT", "mode allowlist needs at least one allow entry (a name or CIDR); for no network use mode none");
  const deny = parseAllowList(input.deny ?? [], "deny");
  const ported = deny.find((entry) => parseAllowEntry(entry).port !== undefined);
  if (ported) throw new AgentisoError("INVALID_INPUT", `deny entry ${JSON.stringify(ported)} has a port: a deny closes a whole name or range (allow only the ports you want instead)`);
  return { mode: "allowlist", allow, deny };
}

/** What a name may be reached on: every port, some ports, or nothing. */
export type NameVerdict = { allowed: false } | { allowed: true; anyPort: boolean; ports: number[] };

// Whether the policy lets the workspace resolve `name`, and on which ports its addresses open.
export function judgeName(policy: NetworkPolicy, name: string): NameVerdict {
  const qname = name.toLowerCase().replace(/\.$/, "");
  const matching = (list: readonly string[]) =>
    list.map(parseAllowEntry).filter((e): e is Extract<AllowEntry, { kind: "name" }> => e.kind === "name" && nameMatches(e, qname));
  if (matching(policy.deny).length > 0) return { allowed: false };
  const allowed = matching(policy.allow);
  if (allowed.length === 0) return { allowed: false };
  const anyPort = allowed.some((e) => e.port === undefined);
  return { allowed: true, anyPort, ports: anyPort ? [] : [...new Set(allowed.map((e) => e.port!))] };
}

function nameMatches(entry: { name: string; wildcard: boolean }, qname: string): boolean {
  return entry.wildcard ? qname.endsWith(`.${entry.name}`) : qname === entry.name;
}

// Allow entries must be public ranges: a private, loopback, link-local or reserved one (the LAN,
// the cloud's metadata service, the host) only inside an exception of the operator's
// (config.toml `[net] allow`). The nft table refuses them anyway; this says so at once.
export function assertPublicEntries(allow: readonly string[], exceptions: readonly string[]): void {
  const excepted = exceptions.map((cidr) => blockOf(parseCidr(cidr)));
  for (const text of allow) {
    const entry = parseAllowEntry(text);
    if (entry.kind !== "cidr") continue;
    const [address, bits] = entry.cidr.split("/") as [string, string];
    const family = address.includes(":") ? "ipv6" : "ipv4";
    const last = lastAddress(address, Number(bits));
    // public: no non-public range starts inside it, and it does not start inside one
    const range = blockOf(entry.cidr);
    const nonPublic = family === "ipv4" ? NON_PUBLIC_V4 : NON_PUBLIC_V6;
    if (isPublicAddress(address) && !nonPublic.some(([start]) => range.check(start, family))) continue;
    if (excepted.some((block) => block.check(address, family) && block.check(last, family))) continue;
    throw new AgentisoError("INVALID_INPUT", `allow entry ${JSON.stringify(text)} is a private, local or reserved range: workspaces never reach those unless the operator adds it to [net] allow in config.toml`);
  }
}

function blockOf(cidr: string): BlockList {
  const [address, bits] = cidr.split("/") as [string, string];
  const block = new BlockList();
  block.addSubnet(address, Number(bits), address.includes(":") ? "ipv6" : "ipv4");
  return block;
}

// The highest address of a range (IPv4 and IPv6), for "does the whole range lie inside".
function lastAddress(address: string, bits: number): string {
  if (!address.includes(":")) {
    const value = address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
    const last = value + 2 ** (32 - bits) - 1;
    return [24, 16, 8, 0].map((shift) => Math.floor(last / 2 ** shift) % 256).join(".");
  }
  const full = new URL(`http://[${address}]`).hostname.slice(1, -1);
  const [head = "", tail = ""] = full.split("::");
  const groups = [...head.split(":").filter(Boolean), ...Array(8 - head.split(":").filter(Boolean).length - tail.split(":").filter(Boolean).length).fill("0"), ...tail.split(":").filter(Boolean)];
  let value = groups.reduce((n, group) => (n << 16n) | BigInt(parseInt(group, 16)), 0n);
  value |= (1n << BigInt(128 - bits)) - 1n;
  return Array.from({ length: 8 }, (_, i) => ((value >> BigInt((7 - i) * 16)) & 0xffffn).toString(16)).join(":");
}
