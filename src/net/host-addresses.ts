// Every address of the host's interfaces: what a workspace in egress mode must not reach
// (each of them is a way into host services bound to 0.0.0.0).
import { networkInterfaces } from "node:os";
import type { HostAddresses } from "./egress-rules.js";

// Reads the current addresses (loopback excluded: inside the namespace 127/8 is the workspace's own lo).
export function hostAddresses(): HostAddresses {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.internal) continue;
      if (a.family === "IPv4") v4.add(a.address);
      else v6.add(a.address.split("%")[0]!);
    }
  }
  return { v4: [...v4], v6: [...v6] };
}
