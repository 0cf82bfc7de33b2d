// Workspace network modes with real slirp4netns and nftables: `egress` reaches the test's
// own fake internet but not the host; `none` reaches nothing; switching works live.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { hostAddresses } from "../../src/net/host-addresses.js";
import { findSlirp } from "../../src/net/slirp.js";
import { runInNetns } from "../../src/net/netns.js";
import { runCommand } from "../../src/core/run-command.js";
import { silentLogger } from "../../src/core/logger.js";
import { WorkspaceNetwork } from "../../src/net/workspace-network.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { RuntimeHarness } from "../support/runtime-harness.js";
import { startFakeInternet, startHostServer, type FakeInternet, type HostServer } from "../support/runtime-fake-internet.js";

const skip = requires(hasCommand("runc"), hasCommand("slirp4netns"), hasCommand("nft"), hasCommand("mmdebstrap"), isRoot());

describe("workspace network modes", { skip }, () => {
  let harness: RuntimeHarness;
  let internet: FakeInternet;
  let hostServer: HostServer;
  before(async () => {
    harness = await RuntimeHarness.create();
    internet = await startFakeInternet();
    hostServer = await startHostServer("0.0.0.0");
  });
  after(async () => {
    await hostServer?.close();
    await internet?.close();
    assert.deepEqual(await harness.close(), []);
  });

  const curl = (id: string, url: string) => harness.sh(id, `curl -sS --max-time 5 ${url}`);

  test("egress reaches the fake internet through slirp4netns", async () => {
    await harness.with({ network: "egress" }, async (ws) => {
      const result = await curl(ws.id, internet.url);
      assert.equal(result.stdout, "hello from the fake internet\n", result.stderr);
    });
  });

  test("none reaches nothing: the namespace has only loopback", async () => {
    await harness.with({ network: "none" }, async (ws) => {
      assert.notEqual((await curl(ws.id, internet.url)).exitCode, 0);
      const links = await harness.sh(ws.id, "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '");
      assert.equal(links.stdout.trim(), "lo");
    });
  });

  test("egress does not reach the host: not its veth address, not slirp's host alias, not any host address", async () => {
    // read before the workspace starts: the filter covers the addresses that existed when egress was set
    const targets = [internet.hostAddress, "10.0.2.2", ...hostAddresses().v4];
    await harness.with({ network: "egress" }, async (ws) => {
      for (const address of targets) {
        const result = await curl(ws.id, `http://${address}:${hostServer.port}/`);
        assert.notEqual(result.exitCode, 0, `reached the host at ${address}: ${result.stdout}`);
      }
      // the same server answers on those addresses from the host: the filter, not a dead server, stops the workspace
      const fromHost = await runCommand(["curl", "-sS", "--max-time", "5", `http://${internet.hostAddress}:${hostServer.port}/`]);
      assert.equal(fromHost.stdout, "host secret\n");
    });
  });

  test("switching a running workspace none → egress → none takes effect at once and leaves no slirp behind", async () => {
    await harness.with({ network: "none" }, async (ws) => {
      const name = harness.runtime.resourceName(ws.id);
      assert.notEqual((await curl(ws.id, internet.url)).exitCode, 0);
      await harness.runtime.setNetwork(ws.id, "egress");
      assert.equal((await curl(ws.id, internet.url)).stdout, "hello from the fake internet\n");
      assert.equal((await findSlirp(name)).length, 1);
      await harness.runtime.setNetwork(ws.id, "egress");
      assert.equal((await findSlirp(name)).length, 1, "setting the same mode twice is idempotent");
      await harness.runtime.setNetwork(ws.id, "none");
      assert.notEqual((await curl(ws.id, internet.url)).exitCode, 0);
      assert.deepEqual(await findSlirp(name), []);
      const table = await runInNetns(name, ["nft", "list", "tables"]);
      assert.equal(table.stdout.trim(), "", "the egress table is removed in none mode");
    });
  });

  test("extra denied CIDRs (e.g. the LAN) are rejected like host addresses", async () => {
    await harness.with({ network: "egress" }, async (ws) => {
      const name = harness.runtime.resourceName(ws.id);
      const strict = new WorkspaceNetwork({ logger: silentLogger, deniedCidrs: [`${internet.address}/32`] });
      await strict.setMode(name, "egress", `${ws.runDir}/slirp.log`);
      assert.notEqual((await curl(ws.id, internet.url)).exitCode, 0);
      await harness.runtime.setNetwork(ws.id, "egress");
      assert.equal((await curl(ws.id, internet.url)).exitCode, 0, "the default filter lets it through again");
    });
  });

  test("stop of an egress workspace removes its slirp4netns, namespace and filter", async () => {
    const ws = await harness.start({ network: "egress" });
    const name = harness.runtime.resourceName(ws.id);
    assert.equal((await findSlirp(name)).length, 1);
    await harness.stop(ws.id);
    assert.deepEqual(await findSlirp(name), []);
    assert.deepEqual(await harness.leftovers(), []);
  });
});
