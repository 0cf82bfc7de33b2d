// The nftables table loaded INSIDE a workspace's network namespace in `egress` mode. slirp4netns
// NATs everything the workspace sends through the host's own stack, so without it a workspace
// reaches every host service and every network around the host: `--disable-host-loopback`
// blocks only 127.0.0.0/8, not the host's other addresses, the LAN, a cloud's metadata service
// or a VPN. So egress means "the internet only": every private, link-local, shared, multicast
// and reserved range is rejected unless the operator makes an exception (`[net] allow` in
// config.toml); the host's own addresses and slirp's network are rejected whatever is allowed.
// DNS goes to slirp's built-in forwarder (10.0.2.3:53) and nowhere else. Refusals are
// `reject`s (TCP reset, else ICMP admin-prohibited: the connect fails at once, no timeout),
// each one counted. The workspace has no NET_ADMIN, so it cannot undo any of this.
// Pure: the caller supplies the host's addresses (see host-addresses.ts) and the policy.

export const EGRESS_TABLE = "agentiso_egress";

/** slirp4netns' fixed user-mode network: the workspace is 10.0.2.100, the host alias .2, DNS .3. */
export const SLIRP = { cidr: "10.0.2.0/24", hostAlias: "10.0.2.2", dns: "10.0.2.3", guest: "10.0.2.100" } as const;

/**
 * Rejected unless allowed: "this network" 0/8, RFC 1918 (10/8, 172.16/12, 192.168/16), CGNAT
 * 100.64/10, loopback, link-local 169.254/16 (cloud metadata), IETF protocol assignments
 * 192.0.0/24, multicast 224/4 and the reserved 240/4 (broadcast included).
 */
export const DEFAULT_DENIED_V4: readonly string[] = [
  "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
  "192.0.0.0/24", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
];
/** Unspecified, loopback, IPv4-mapped (a v6 socket's way to v4), ULA fc00::/7, link-local fe80::/10, multicast. */
export const DEFAULT_DENIED_V6: readonly string[] = ["::/128", "::1/128", "::ffff:0:0/96", "fc00::/7", "fe80::/10", "ff00::/8"];

export interface HostAddresses {
  v4: string[];
  v6: string[];
}

/** What the operator adds (config.toml `[net]`): more denied ranges, and exceptions to the default denies. */
export interface EgressPolicy {
  deny?: readonly string[];
  allow?: readonly string[];
}

/** Named counters of refused traffic (`nft list counters` inside the namespace): refusals are visible. */
export const EGRESS_COUNTERS = { dns: "refused_dns", host: "refused_host", denied: "refused_private" } as const;

// The nft script that (re)creates the table atomically: `nft -f` applies it as one transaction.
export function egressRuleset(host: HostAddresses, policy: EgressPolicy = {}): string {
  const [extraV4, extraV6] = byFamily(policy.deny ?? []);
  const [allowV4, allowV6] = byFamily(policy.allow ?? []);
  const rules = [
    'oifname "lo" accept',
    // DNS: slirp's forwarder only (before the exceptions: no allowed range serves as a resolver)
    `ip daddr ${SLIRP.dns} udp dport 53 accept`,
    `ip daddr ${SLIRP.dns} tcp dport 53 accept`,
    `udp dport 53 counter name ${EGRESS_COUNTERS.dns} reject with icmpx type admin-prohibited`,
    `tcp dport 53 counter name ${EGRESS_COUNTERS.dns} reject with tcp reset`,
    // the host itself (its addresses, slirp's alias of it): never, whatever is allowed
    ...reject(daddrIn("ip", [SLIRP.cidr, ...host.v4]), EGRESS_COUNTERS.host),
    ...reject(daddrIn("ip6", host.v6), EGRESS_COUNTERS.host),
    ...[daddrIn("ip", allowV4), daddrIn("ip6", allowV6)].flatMap((match) => (match ? [`${match} accept`] : [])),
    ...reject(daddrIn("ip", [...DEFAULT_DENIED_V4, ...extraV4]), EGRESS_COUNTERS.denied),
    ...reject(daddrIn("ip6", [...DEFAULT_DENIED_V6, ...extraV6]), EGRESS_COUNTERS.denied),
  ];
  return tableScript(Object.values(EGRESS_COUNTERS).map((name) => `counter ${name} {}`), rules);
}

// The namespace's one table with its declarations (counters, sets) and output chain, loaded
// afresh: add + delete makes the load idempotent (the delete never fails, the table starts empty).
export function tableScript(declarations: readonly string[], rules: readonly string[]): string {
  return [
    `add table inet ${EGRESS_TABLE}`,
    `delete table inet ${EGRESS_TABLE}`,
    `table inet ${EGRESS_TABLE} {`,
    ...declarations.map((declaration) => `  ${declaration}`),
    "  chain output {",
    "    type filter hook output priority 0; policy accept;",
    ...rules.map((rule) => `    ${rule}`),
    "  }",
    "}",
    "",
  ].join("\n");
}

// The script that removes the table (idempotent, same add+delete trick).
export function removeEgressRuleset(): string {
  return `add table inet ${EGRESS_TABLE}\ndelete table inet ${EGRESS_TABLE}\n`;
}

// TCP gets a reset (ECONNREFUSED at once), everything else ICMP admin-prohibited; one counter for both.
export function reject(match: string | undefined, counter: string): string[] {
  if (!match) return [];
  return [`${match} meta l4proto tcp counter name ${counter} reject with tcp reset`, `${match} counter name ${counter} reject with icmpx type admin-prohibited`];
}

// `ip daddr { a, b }`, or undefined for no ranges (nft refuses an empty anonymous set).
export function daddrIn(family: "ip" | "ip6", ranges: readonly string[]): string | undefined {
  return ranges.length === 0 ? undefined : `${family} daddr { ${ranges.join(", ")} }`;
}

// Splits CIDRs (already validated by core/cidr.ts) into IPv4 and IPv6.
export function byFamily(cidrs: readonly string[]): [string[], string[]] {
  return [cidrs.filter((c) => !c.includes(":")), cidrs.filter((c) => c.includes(":"))];
}
