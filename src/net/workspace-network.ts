// A workspace's network policy, switched live. `none`: the namespace has only loopback.
// `egress`: slirp4netns NATs outbound traffic and an nftables table inside the namespace
// rejects the host's own addresses (host-addresses.ts), every private and link-local range and
// DNS to anything but slirp's forwarder before anything leaves (egress-rules.ts). `allowlist`:
// the same NAT, a stricter table (allowlist-rules.ts) that admits only allowed CIDRs and the
// addresses the daemon's DNS gate answered for allowed names (dns-gate.ts), whose sockets in
// the namespace replace slirp's forwarder.
import type { Logger } from "../core/logger.js";
import { AgentisoError } from "../core/errors.js";
import { normalizePolicy, type NetworkMode, type NetworkPolicy } from "../core/network-allowlist.js";
import { egressRuleset, EGRESS_COUNTERS, EGRESS_TABLE, removeEgressRuleset, type EgressPolicy, type HostAddresses } from "./egress-rules.js";
import { admitAddressesScript, allowlistRuleset, ALLOWLIST_COUNTERS } from "./allowlist-rules.js";
import { DnsGate, type UpstreamDns } from "./dns-gate.js";
import { hostAddresses } from "./host-addresses.js";
import { runInNetns } from "./netns.js";
import { startSlirp, stopSlirp, findSlirp } from "./slirp.js";
import { upstreamDns } from "./upstream-dns.js";

export type WorkspaceNetworkMode = NetworkMode;

export interface WorkspaceNetworkOptions {
  logger: Logger;
  /** Defaults to the live host addresses. */
  addresses?: () => HostAddresses;
  /** The operator's additions to the default denies and exceptions from them (config.toml `[net]`). */
  policy?: EgressPolicy;
  /** Where the DNS gate asks (config.toml `[net] upstreamDns`); default the host's /etc/resolv.conf. */
  upstreamDns?: () => UpstreamDns;
}

/** Connections and names of one namespace since its table or gate was set up. */
export interface NetworkTraffic {
  /** New connections admitted by the allowlist. */
  allowed: number;
  /** Connections and packets refused by the table (any reason). */
  refused: number;
  /** Names the DNS gate answered, and refused. */
  namesAnswered: number;
  namesRefused: number;
}

// Stateless over the host but for the DNS gate's sockets: the mode is read back from what runs.
export class WorkspaceNetwork {
  private readonly gate: DnsGate;

  constructor(private readonly options: WorkspaceNetworkOptions) {
    this.gate = new DnsGate({
      logger: options.logger.child({ component: "dns-gate" }),
      upstream: options.upstreamDns ?? (() => upstreamDns(undefined)),
      admit: async (netnsName, addresses) => void (await runInNetns(netnsName, ["nft", "-f", "-"], { input: admitAddressesScript(addresses) })),
    });
  }

  // Puts the named namespace under `policy` (a bare mode is none or egress); idempotent. The
  // filter is loaded before slirp starts, so egress is never unfiltered.
  async setMode(netnsName: string, policy: WorkspaceNetworkMode | NetworkPolicy, slirpLogPath: string): Promise<void> {
    const wanted = typeof policy === "string" ? normalizePolicy({ mode: policy }) : policy;
    const host = () => (this.options.addresses ?? hostAddresses)();
    if (wanted.mode === "egress") {
      await runInNetns(netnsName, ["nft", "-f", "-"], { input: egressRuleset(host(), this.options.policy) });
      await this.gate.detach(netnsName);
      if ((await findSlirp(netnsName)).length === 0) await startSlirp(netnsName, slirpLogPath);
    } else if (wanted.mode === "allowlist") {
      await runInNetns(netnsName, ["nft", "-f", "-"], { input: allowlistRuleset(host(), this.options.policy ?? {}, wanted) });
      await this.gate.attach(netnsName, wanted);
      if ((await findSlirp(netnsName)).length === 0) await startSlirp(netnsName, slirpLogPath);
    } else if (wanted.mode === "none") {
      await stopSlirp(netnsName);
      await this.gate.detach(netnsName);
      await runInNetns(netnsName, ["nft", "-f", "-"], { input: removeEgressRuleset() });
    } else {
      throw new AgentisoError("INVALID_INPUT", `unknown network mode ${JSON.stringify(wanted.mode)}: use none, egress or allowlist`);
    }
    this.options.logger.debug("network mode set", { netns: netnsName, mode: wanted.mode });
  }

  // The mode the namespace is in now (slirp running = egress, with the gate = allowlist).
  async mode(netnsName: string): Promise<WorkspaceNetworkMode> {
    if ((await findSlirp(netnsName)).length === 0) return "none";
    return this.gate.isAttached(netnsName) ? "allowlist" : "egress";
  }

  // What the namespace's table counted and the gate answered; undefined without a table.
  async traffic(netnsName: string): Promise<NetworkTraffic | undefined> {
    const listed = await runInNetns(netnsName, ["nft", "-j", "list", "counters", "table", "inet", EGRESS_TABLE], { check: false });
    if (listed.exitCode !== 0) return undefined;
    const packets = new Map<string, number>();
    for (const item of (JSON.parse(listed.stdout) as { nftables?: Array<{ counter?: { name: string; packets: number } }> }).nftables ?? []) {
      if (item.counter) packets.set(item.counter.name, item.counter.packets);
    }
    const refusedCounters = [...Object.values(EGRESS_COUNTERS), ALLOWLIST_COUNTERS.unlisted];
    const names = this.gate.stats(netnsName);
    return {
      allowed: packets.get(ALLOWLIST_COUNTERS.allowed) ?? 0,
      refused: refusedCounters.reduce((sum, name) => sum + (packets.get(name) ?? 0), 0),
      namesAnswered: names?.answered ?? 0,
      namesRefused: names?.refused ?? 0,
    };
  }

  // Stops what serves the namespace from the host side (the namespace goes with its processes).
  async teardown(netnsName: string): Promise<void> {
    await stopSlirp(netnsName);
    await this.gate.detach(netnsName).catch(() => {}); // the namespace may be gone already
  }

  // Closes the gate's sockets (daemon shutdown; the next daemon opens them again when it adopts).
  async close(): Promise<void> {
    await this.gate.close();
  }
}
