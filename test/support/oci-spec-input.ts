// One workspace's OCI spec input, as the container runtime would build it, for the spec's unit tests.
import { buildWorkspaceSpec, type WorkspaceSpecInput } from "../../src/runtimes/container/oci-spec.js";
import { buildSeccompProfile } from "../../src/runtimes/container/seccomp-profile.js";

export const SPEC_INPUT: WorkspaceSpecInput = {
  rootfsPath: "/pool/ws/w1",
  hostname: "w1",
  resources: { memoryMiB: 512, cpus: 1.5, pidsLimit: 256 },
  cgroupsPath: "/ais123456-ws-w1",
  idMapping: { hostId: 100000, size: 65536 },
  tiniPath: "/usr/bin/tini-static",
  agentBundlePath: "/opt/agentiso/dist/agentiso-guest.cjs",
  agentRunDir: "/var/lib/agentiso/run/w1/agent",
  nodePathInGuest: "/usr/bin/node",
  hostsFile: "/var/lib/agentiso/run/w1/etc-hosts",
  resolvConfFile: "/var/lib/agentiso/run/w1/etc-resolv.conf",
};

// The spec built from SPEC_INPUT with some fields changed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the spec is plain JSON for runc
export const specWith = (overrides: Partial<WorkspaceSpecInput> = {}): any => buildWorkspaceSpec({ ...SPEC_INPUT, ...overrides }, buildSeccompProfile("x64"));
