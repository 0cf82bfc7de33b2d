// Which node runs the agent in a container, and with which startup snapshot: the snapshot
// loads only into the binary that built it, so anything else falls back to the bundle.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { findAgentSnapshot, snapshotFits } from "../../src/runtimes/container/agent-snapshot.js";
import { buildWorkspaceSpec, type WorkspaceSpecInput } from "../../src/runtimes/container/oci-spec.js";
import { buildSeccompProfile } from "../../src/runtimes/container/seccomp-profile.js";

const NODE = { execPath: "/usr/bin/node", version: "v20.20.2", arch: "x64" };

describe("agent startup snapshot", () => {
  test("a snapshot fits only the binary path, version and architecture that built it", () => {
    const sidecar = { node: NODE.version, execPath: NODE.execPath, arch: NODE.arch };
    assert.equal(snapshotFits(sidecar, NODE), true);
    assert.equal(snapshotFits(sidecar, { ...NODE, version: "v20.20.3" }), false);
    assert.equal(snapshotFits(sidecar, { ...NODE, execPath: "/opt/node/bin/node" }), false);
    assert.equal(snapshotFits(sidecar, { ...NODE, arch: "arm64" }), false);
  });

  test("the blob beside the bundle is found when its sidecar matches, and ignored when the sidecar is missing, torn or foreign", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ais-snapshot-"));
    try {
      const bundle = join(dir, "agentiso-guest.cjs");
      assert.equal(await findAgentSnapshot(bundle, NODE), undefined);
      await writeFile(join(dir, "agentiso-guest.snapshot.json"), "{\"node\":");
      assert.equal(await findAgentSnapshot(bundle, NODE), undefined);
      await writeFile(join(dir, "agentiso-guest.snapshot.json"), JSON.stringify({ node: "v18.20.4", execPath: NODE.execPath, arch: NODE.arch }));
      assert.equal(await findAgentSnapshot(bundle, NODE), undefined);
      await writeFile(join(dir, "agentiso-guest.snapshot.json"), JSON.stringify({ node: NODE.version, execPath: NODE.execPath, arch: NODE.arch }));
      assert.equal(await findAgentSnapshot(bundle, NODE), join(dir, "agentiso-guest.snapshot.blob"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("agent command in the OCI spec", () => {
  const input: WorkspaceSpecInput = {
    rootfsPath: "/pool/ws/rootfs",
    hostname: "w1",
    resources: { memoryMiB: 256, cpus: 1, pidsLimit: 128 },
    cgroupsPath: "/ais-ws-w1",
    idMapping: { hostId: 100_000, size: 65_536 },
    tiniPath: "/usr/bin/tini-static",
    agentBundlePath: "/repo/dist/agentiso-guest.cjs",
    agentRunDir: "/state/run/w1/agent",
    nodePathInGuest: "/usr/bin/node",
    hostsFile: "/state/run/w1/etc-hosts",
    resolvConfFile: "/state/run/w1/etc-resolv.conf",
  };
  const command = (extra: Partial<WorkspaceSpecInput>) => {
    const spec = buildWorkspaceSpec({ ...input, ...extra }, buildSeccompProfile()) as { process: { args: string[] }; mounts: Array<{ destination: string; source: string; options?: string[] }> };
    return { args: spec.process.args.slice(3).join(" "), mounts: spec.mounts.filter((m) => m.destination.startsWith("/.agentiso/node") || m.destination.endsWith(".blob")) };
  };

  test("without a host node the guest's own node runs the bundle", () => {
    assert.deepEqual(command({}), { args: "/usr/bin/node /.agentiso/agent.cjs --listen unix:/.agentiso/run/agent.sock", mounts: [] });
  });

  test("with a host node and its snapshot both are bind-mounted read-only and node starts from the snapshot", () => {
    const { args, mounts } = command({ hostNodePath: "/usr/bin/node", agentSnapshotPath: "/repo/dist/agentiso-guest.snapshot.blob" });
    assert.equal(args, "/.agentiso/node --snapshot-blob /.agentiso/agent.snapshot.blob /.agentiso/agent.cjs --listen unix:/.agentiso/run/agent.sock");
    assert.deepEqual(mounts.map((m) => [m.source, m.destination, m.options?.includes("ro")]), [
      ["/usr/bin/node", "/.agentiso/node", true],
      ["/repo/dist/agentiso-guest.snapshot.blob", "/.agentiso/agent.snapshot.blob", true],
    ]);
  });

  test("a snapshot without a host node is ignored", () => {
    assert.deepEqual(command({ agentSnapshotPath: "/repo/dist/agentiso-guest.snapshot.blob" }).mounts, []);
  });
});
