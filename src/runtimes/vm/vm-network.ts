// A microVM's network mode. `egress`: a network namespace of the workspace's own, of the same
// shape as a container's (src/net: slirp4netns on tap0 and the nftables egress table), with QEMU
// running inside it. QEMU's user-mode NAT (`-netdev user`) turns every guest connection into a
// socket of QEMU's opened in that namespace, so the table's output hook judges the guest's
// traffic exactly as it judges a container's processes: no rule here is VM-specific, and what
// src/net adds to the namespace applies to VMs too. `none`: no namespace, no network device.
//
// A running microVM cannot be given a network device: virtio-mmio has no hot-plug (QMP
// `device_add` of a virtio-net-device answers "Bus 'virtio-mmio-bus.N' does not support
// hotplugging", measured on QEMU 7.2). So a VM started in `none` keeps no network until its next
// start; one started in egress switches live both ways (`none` stops slirp4netns and removes
// the table: QEMU's sockets then reach only the namespace's empty loopback).
import { AgentisoError } from "../../core/errors.js";
import { SLIRP } from "../../net/egress-rules.js";
import { createNetns, deleteNetns, listNetns, netnsExists, netnsPath } from "../../net/netns.js";
import type { NetworkTraffic, WorkspaceNetwork } from "../../net/workspace-network.js";
import type { NetworkMode, NetworkPolicy } from "../workspace-runtime.js";

export class VmNetwork {
  constructor(private readonly network: WorkspaceNetwork) {}

  /** What /etc/resolv.conf in the guest names: the namespace's resolver, as in a container. */
  get resolver(): string {
    return SLIRP.dns;
  }

  // Before QEMU starts: for egress the namespace, its table and slirp4netns (table first: never
  // unfiltered). Returns the argv prefix that starts QEMU inside the namespace ([] for none).
  async prepare(name: string, mode: NetworkMode, slirpLogPath: string, policy?: NetworkPolicy): Promise<string[]> {
    if (mode === "none") return [];
    await createNetns(name);
    await this.network.setMode(name, policy ?? mode, slirpLogPath);
    return ["nsenter", `--net=${netnsPath(name)}`, "--"];
  }

  // Switches a running VM; refused when it has no network device to switch (see the top of this file).
  async switch(workspaceId: string, name: string, mode: NetworkMode, slirpLogPath: string, policy?: NetworkPolicy): Promise<void> {
    if (await netnsExists(name)) return this.network.setMode(name, policy ?? mode, slirpLogPath);
    if (mode === "none") return;
    throw new AgentisoError(
      "INVALID_STATE",
      `vm workspace ${workspaceId} was started with network none, so it has no network device, and a running microVM cannot get one (no hot-plug on virtio-mmio): ` +
        `stop it, set the mode, and start it again — the mode of a stopped vm workspace applies at its next start`,
    );
  }

  // What the namespace's table and resolver counted (undefined without a network).
  traffic(name: string): Promise<NetworkTraffic | undefined> {
    return this.network.traffic(name);
  }

  // After QEMU is gone: slirp4netns and the namespace. Idempotent.
  async teardown(name: string): Promise<void> {
    await this.network.teardown(name);
    if (await netnsExists(name)) await deleteNetns(name);
  }

  // Namespace names that satisfy `owns` (orphans for reconcile).
  list(owns: (name: string) => boolean): Promise<string[]> {
    return listNetns(owns);
  }
}
