// A workspace's network mode, switched live. `none`: the namespace has only loopback.
// `egress`: slirp4netns NATs outbound traffic and an nftables table inside the namespace
// rejects the host's own addresses (host-addresses.ts), every private and link-local range and
// DNS to anything but slirp's forwarder before anything leaves (egress-rules.ts).
import type { Logger } from "../core/logger.js";
import { AgentisoError } from "../core/errors.js";
import { egressRuleset, removeEgressRuleset, type EgressPolicy, type HostAddresses } from "./egress-rules.js";
import { hostAddresses } from "./host-addresses.js";
import { runInNetns } from "./netns.js";
import { startSlirp, stopSlirp, findSlirp } from "./slirp.js";

export type WorkspaceNetworkMode = "none" | "egress";

export interface WorkspaceNetworkOptions {
  logger: Logger;
  /** Defaults to the live host addresses. */
  addresses?: () => HostAddresses;
  /** The operator's additions to the default denies and exceptions from them (config.toml `[net]`). */
  policy?: EgressPolicy;
}

// Stateless over the host: the mode is read back from what runs (slirp present = egress).
export class WorkspaceNetwork {
  constructor(private readonly options: WorkspaceNetworkOptions) {}

  // Puts the named namespace in `mode`; idempotent. The filter is loaded before slirp starts, so egress is never unfiltered.
  async setMode(netnsName: string, mode: WorkspaceNetworkMode, slirpLogPath: string): Promise<void> {
    if (mode === "egress") {
      const host = (this.options.addresses ?? hostAddresses)();
      await runInNetns(netnsName, ["nft", "-f", "-"], { input: egressRuleset(host, this.options.policy) });
      if ((await findSlirp(netnsName)).length === 0) await startSlirp(netnsName, slirpLogPath);
    } else if (mode === "none") {
      await stopSlirp(netnsName);
      await runInNetns(netnsName, ["nft", "-f", "-"], { input: removeEgressRuleset() });
    } else {
      throw new AgentisoError("INVALID_INPUT", `unknown network mode ${JSON.stringify(mode)}: use none or egress`);
    }
    this.options.logger.debug("network mode set", { netns: netnsName, mode });
  }

  // The mode the namespace is in now (slirp running = egress).
  async mode(netnsName: string): Promise<WorkspaceNetworkMode> {
    return (await findSlirp(netnsName)).length > 0 ? "egress" : "none";
  }

  // Stops what serves the namespace from the host side (the namespace goes with its processes).
  async teardown(netnsName: string): Promise<void> {
    await stopSlirp(netnsName);
  }
}
