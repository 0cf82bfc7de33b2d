// The container runtime running the agent with the host's node (shared read-only at
// /.agentiso/node, through the host's loader and libraries at /.agentiso/lib, from the
// agent's startup snapshot when it fits that binary) and falling
// back to the guest's own node where the host's cannot run.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger } from "../../src/core/logger.js";
import { findAgentSnapshot } from "../../src/runtimes/container/agent-snapshot.js";
import { ContainerRuntime } from "../../src/runtimes/container/container-runtime.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { AGENT_BUNDLE, RuntimeHarness, SMALL } from "../support/runtime-harness.js";
import { overlayRootfs, type TestRootfs } from "../support/runtime-rootfs.js";

const skip = requires(hasCommand("runc"), hasCommand("mmdebstrap"), isRoot());

describe("container runtime with the host's node", { skip }, () => {
  let harness: RuntimeHarness;
  before(async () => {
    harness = await RuntimeHarness.create();
  });
  after(async () => {
    assert.deepEqual(await harness.close(), []);
  });

  // Starts a workspace on a fresh overlay with a runtime that has hostNodePath, runs fn, then stops it and unmounts.
  async function withHostNode(hostNodePath: string, fn: (id: string) => Promise<void>): Promise<void> {
    const runtime = new ContainerRuntime({ stateDir: harness.stateDir, tag: harness.tag, agentBundlePath: AGENT_BUNDLE, hostNodePath, logger: createLogger({ level: "error" }) });
    const id = `hn-${randomBytes(3).toString("hex")}`;
    let rootfs: TestRootfs | undefined;
    try {
      rootfs = await overlayRootfs(join(harness.stateDir, "rootfs", id));
      await (await runtime.start({ workspaceId: id, hostname: id, rootfs: rootfs.handle, resources: SMALL, network: "none", runDir: harness.runDir(id) })).ready;
      await fn(id);
    } finally {
      await harness.stop(id, { timeoutMs: 0 });
      await rootfs?.dispose();
    }
  }

  test("the agent runs with the host's node binary from its startup snapshot, shared read-only, and serves commands", async () => {
    const snapshot = await findAgentSnapshot(AGENT_BUNDLE, { execPath: process.execPath, version: process.version, arch: process.arch });
    assert.ok(snapshot, "scripts/build.mjs built the agent's startup snapshot with this node");
    await withHostNode(process.execPath, async (id) => {
      const out = await harness.sh(id, "tr '\\0' ' ' < /proc/1/cmdline; echo; /.agentiso/node --version; touch /.agentiso/node /.agentiso/agent.snapshot.blob 2>&1 || echo read-only");
      const [init, version, ...rest] = out.stdout.trim().split("\n");
      assert.match(init!, /^\/\.agentiso\/tini -s -- \/\.agentiso\/lib\/ld-linux-\S+ --inhibit-cache --library-path \/\.agentiso\/lib \/\.agentiso\/node --snapshot-blob \/\.agentiso\/agent\.snapshot\.blob \/\.agentiso\/agent\.cjs --listen/);
      assert.equal(version, process.version);
      assert.match(rest.join("\n"), /read-only/);
      // the agent's environment is the workspace's, not the build machine's, and it spawns processes after deserialization
      const env = await harness.sh(id, "echo $HOME:$PATH");
      assert.equal(env.stdout, "/root:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
    });
  });

  test("another node binary runs the agent from the bundle: the snapshot fits only the binary that built it", async () => {
    const copy = join(harness.stateDir, "node-copy");
    await copyFile(process.execPath, copy);
    await chmod(copy, 0o755);
    await withHostNode(copy, async (id) => {
      const out = await harness.sh(id, "tr '\\0' ' ' < /proc/1/cmdline");
      assert.match(out.stdout, /^\/\.agentiso\/tini -s -- \/\.agentiso\/lib\/ld-linux-\S+ --inhibit-cache --library-path \/\.agentiso\/lib \/\.agentiso\/node \/\.agentiso\/agent\.cjs --listen/);
    });
  });

  test("a host node that cannot run inside the workspace falls back to the guest's own node", async () => {
    const broken = join(harness.stateDir, "broken-node");
    await writeFile(broken, "#!/no/such/interpreter\n");
    await chmod(broken, 0o755);
    await withHostNode(broken, async (id) => {
      const out = await harness.sh(id, "tr '\\0' ' ' < /proc/1/cmdline");
      assert.match(out.stdout, /^\/\.agentiso\/tini -s -- \/usr\/bin\/node \/\.agentiso\/agent\.cjs/);
    });
    assert.deepEqual(await harness.leftovers(), []);
  });
});
