// The nftables table of a namespace in `allowlist` mode: the same table name as egress (a mode
// switch replaces one with the other in one transaction), the same refusals of the host and
// of private ranges, and then only (a) addresses the daemon's DNS gate answered for an
// allowed name — elements of the sets below, each with the record's TTL — on that name's
// ports, and (b) the allowed CIDRs; every other new connection is rejected (TCP reset, else
// ICMP admin-prohibited: fast, never a hang) and counted. Replies and packets of connections
// already admitted pass (conntrack), so a set element that expires ends no transfer.
// DNS reaches only the gate, which listens on slirp's DNS address 10.0.2.3 put on the
// namespace's loopback (dns-gate-sockets.ts): the packets never leave the namespace.
// Pure: the caller supplies host addresses, the operator's policy and the workspace's.
import { parseAllowEntry, type NetworkPolicy } from "../core/network-allowlist.js";
import { byFamily, daddrIn, DEFAULT_DENIED_V4, DEFAULT_DENIED_V6, EGRESS_COUNTERS, EGRESS_TABLE, reject, SLIRP, tableScript, type EgressPolicy, type HostAddresses } from "./egress-rules.js";

/** Counters of this mode beyond egress's: new connections admitted, and refused for not being allowed. */
export const ALLOWLIST_COUNTERS = { allowed: "allowed", unlisted: "refused_unlisted" } as const;

/** Sets of answered addresses: any port, or address . port. */
export const ALLOWLIST_SETS = { v4: "answered_v4", v4Port: "answered_v4_port", v6: "answered_v6", v6Port: "answered_v6_port" } as const;

const L4_PORTS = "meta l4proto { tcp, udp }";

// The nft script that (re)creates the table for `policy` (mode allowlist) atomically.
export function allowlistRuleset(host: HostAddresses, operator: EgressPolicy, policy: NetworkPolicy): string {
  const [operatorV4, operatorV6] = byFamily(operator.allow ?? []);
  const [extraV4, extraV6] = byFamily(operator.deny ?? []);
  const deniedCidrs = policy.deny.map(parseAllowEntry).flatMap((e) => (e.kind === "cidr" ? [e.cidr] : []));
  const [denyV4, denyV6] = byFamily(deniedCidrs);
  const counted = `counter name ${ALLOWLIST_COUNTERS.allowed} accept`;
  const rules = [
    'oifname "lo" accept', // the workspace's own loopback, and the DNS gate on 10.0.2.3
    "ct state established,related accept",
    `udp dport 53 counter name ${EGRESS_COUNTERS.dns} reject with icmpx type admin-prohibited`,
    `tcp dport 53 counter name ${EGRESS_COUNTERS.dns} reject with tcp reset`,
    ...reject(daddrIn("ip", [SLIRP.cidr, ...host.v4]), EGRESS_COUNTERS.host),
    ...reject(daddrIn("ip6", host.v6), EGRESS_COUNTERS.host),
    ...reject(daddrIn("ip", denyV4), ALLOWLIST_COUNTERS.unlisted),
    ...reject(daddrIn("ip6", denyV6), ALLOWLIST_COUNTERS.unlisted),
    // private ranges: refused even when allowed (or answered) unless the operator made an exception
    ...reject(except(daddrIn("ip", [...DEFAULT_DENIED_V4, ...extraV4]), "ip", operatorV4), EGRESS_COUNTERS.denied),
    ...reject(except(daddrIn("ip6", [...DEFAULT_DENIED_V6, ...extraV6]), "ip6", operatorV6), EGRESS_COUNTERS.denied),
    `ip daddr @${ALLOWLIST_SETS.v4} ${counted}`,
    `${L4_PORTS} ip daddr . th dport @${ALLOWLIST_SETS.v4Port} ${counted}`,
    `ip6 daddr @${ALLOWLIST_SETS.v6} ${counted}`,
    `${L4_PORTS} ip6 daddr . th dport @${ALLOWLIST_SETS.v6Port} ${counted}`,
    ...cidrRules(policy).map((match) => `${match} ${counted}`),
    `meta l4proto tcp counter name ${ALLOWLIST_COUNTERS.unlisted} reject with tcp reset`,
    `counter name ${ALLOWLIST_COUNTERS.unlisted} reject with icmpx type admin-prohibited`,
  ];
  const sets: Array<[string, string]> = [
    [ALLOWLIST_SETS.v4, "ipv4_addr"],
    [ALLOWLIST_SETS.v4Port, "ipv4_addr . inet_service"],
    [ALLOWLIST_SETS.v6, "ipv6_addr"],
    [ALLOWLIST_SETS.v6Port, "ipv6_addr . inet_service"],
  ];
  const counters = [...Object.values(EGRESS_COUNTERS), ...Object.values(ALLOWLIST_COUNTERS)].map((name) => `counter ${name} {}`);
  return tableScript([...counters, ...sets.map(([name, type]) => `set ${name} { type ${type}; flags timeout; }`)], rules);
}

/** An address the gate answered, admitted for ttlSeconds on `ports` (empty: every port). */
export interface AnsweredAddress {
  family: 4 | 6;
  address: string;
  ports: readonly number[];
  ttlSeconds: number;
}

// The script that admits answered addresses; an element already there gets the new timeout
// (add + delete + add: `add` alone keeps the old one, `delete` alone fails on a missing one).
export function admitAddressesScript(addresses: readonly AnsweredAddress[]): string {
  const lines: string[] = [];
  for (const a of addresses) {
    const set = a.ports.length === 0 ? (a.family === 4 ? ALLOWLIST_SETS.v4 : ALLOWLIST_SETS.v6) : a.family === 4 ? ALLOWLIST_SETS.v4Port : ALLOWLIST_SETS.v6Port;
    const keys = a.ports.length === 0 ? [a.address] : a.ports.map((port) => `${a.address} . ${port}`);
    const elements = (timeout: boolean) => `{ ${keys.map((key) => (timeout ? `${key} timeout ${a.ttlSeconds}s` : key)).join(", ")} }`;
    lines.push(`add element inet ${EGRESS_TABLE} ${set} ${elements(true)}`, `delete element inet ${EGRESS_TABLE} ${set} ${elements(false)}`, `add element inet ${EGRESS_TABLE} ${set} ${elements(true)}`);
  }
  return lines.join("\n") + "\n";
}

// `ip daddr 10.1.2.3/32`, with `th dport 5432` for an entry with a port.
function cidrRules(policy: NetworkPolicy): string[] {
  return policy.allow.map(parseAllowEntry).flatMap((e) => {
    if (e.kind !== "cidr") return [];
    const match = `${e.cidr.includes(":") ? "ip6" : "ip"} daddr ${e.cidr}`;
    return [e.port === undefined ? match : `${L4_PORTS} ${match} th dport ${e.port}`];
  });
}

// `ip daddr { denied } ip daddr != { exceptions }`: the denied ranges but the operator's exceptions.
function except(match: string | undefined, family: "ip" | "ip6", exceptions: readonly string[]): string | undefined {
  if (!match || exceptions.length === 0) return match;
  return `${match} ${family} daddr != { ${exceptions.join(", ")} }`;
}
