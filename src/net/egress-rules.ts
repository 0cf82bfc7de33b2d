// The nftables table loaded INSIDE a workspace's network namespace in `egress` mode. slirp4netns
// NATs everything the workspace sends through the host's own stack, so without it a workspace
// reaches every host service: `--disable-host-loopback` blocks only 127.0.0.0/8, not 10.0.2.2
// aliases nor the host's other addresses. The workspace has no NET_ADMIN, so it cannot undo this.
// Pure: the caller supplies the host's addresses (see host-addresses.ts).

export const EGRESS_TABLE = "agentiso_egress";

/** slirp4netns' fixed user-mode network: the workspace is 10.0.2.100, the host alias .2, DNS .3. */
export const SLIRP = { cidr: "10.0.2.0/24", hostAlias: "10.0.2.2", dns: "10.0.2.3", guest: "10.0.2.100" } as const;

/** Never reachable from a workspace: slirp's own net (host alias), link-local (cloud metadata), multicast. */
export const ALWAYS_DENIED_V4: readonly string[] = [SLIRP.cidr, "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255"];
export const ALWAYS_DENIED_V6: readonly string[] = ["fe80::/10", "fc00::/7", "ff00::/8"];

export interface HostAddresses {
  v4: string[];
  v6: string[];
}

// The nft script that (re)creates the table atomically: `nft -f` applies it as one transaction.
export function egressRuleset(host: HostAddresses): string {
  const v4 = [...ALWAYS_DENIED_V4, ...host.v4];
  const v6 = [...ALWAYS_DENIED_V6, ...host.v6];
  return [
    // add + delete makes the load idempotent: the delete never fails, the table starts empty
    `add table inet ${EGRESS_TABLE}`,
    `delete table inet ${EGRESS_TABLE}`,
    `table inet ${EGRESS_TABLE} {`,
    "  chain output {",
    "    type filter hook output priority 0; policy accept;",
    '    oifname "lo" accept',
    `    ip daddr ${SLIRP.dns} udp dport 53 accept`,
    `    ip daddr ${SLIRP.dns} tcp dport 53 accept`,
    `    ip daddr { ${v4.join(", ")} } reject with icmpx type admin-prohibited`,
    `    ip6 daddr { ${v6.join(", ")} } reject with icmpx type admin-prohibited`,
    "  }",
    "}",
    "",
  ].join("\n");
}

// The script that removes the table (idempotent, same add+delete trick).
export function removeEgressRuleset(): string {
  return `add table inet ${EGRESS_TABLE}\ndelete table inet ${EGRESS_TABLE}\n`;
}
