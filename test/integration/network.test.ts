// Workspace network modes with real slirp4netns and nftables: `egress` reaches the test's
// own fake internet but not the host nor the networks around it; `none` reaches nothing;
// switching works live. Every address a workspace is sent to is one the test created in its
// own namespaces, or one the filter refuses before a packet leaves (shown by its counters).
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
import { privateSubnet, startFakeInternet, startHostServer, type FakeInternet, type HostServer } from "../support/runtime-fake-internet.js";
import { EGRESS_COUNTERS, EGRESS_TABLE } from "../../src/net/egress-rules.js";

const skip = requires(hasCommand("runc"), hasCommand("slirp4netns"), hasCommand("nft"), hasCommand("mmdebstrap"), isRoot());

describe("workspace network modes", { skip }, () => {
  let harness: RuntimeHarness;
  let internet: FakeInternet;
  let hostServer: HostServer;
  let lan: FakeInternet;
  before(async () => {
    harness = await RuntimeHarness.create();
    internet = await startFakeInternet();
    lan = await startFakeInternet({ subnet: await privateSubnet() });
    hostServer = await startHostServer("0.0.0.0");
  });
  after(async () => {
    await hostServer?.close();
    await lan?.close();
    await internet?.close();
    assert.deepEqual(await harness.close(), []);
  });

  const curl = (id: string, url: string) => harness.sh(id, `curl -sS --max-time 5 ${url}`);
  // Packets each named counter of the workspace's egress table has refused so far.
  const refusals = async (netns: string): Promise<Record<string, number>> => {
    const listed = JSON.parse((await runInNetns(netns, ["nft", "-j", "list", "counters", "table", "inet", EGRESS_TABLE])).stdout) as {
      nftables: Array<{ counter?: { name: string; packets: number } }>;
    };
    return Object.fromEntries(listed.nftables.flatMap((item) => (item.counter ? [[item.counter.name, item.counter.packets]] : [])));
  };

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

  test("egress refuses a private-range host around the machine at once (reset, not a timeout), while the host's own route reaches it", async () => {
    assert.match(lan.address, /^(10\.|192\.168\.)/);
    await harness.with({ network: "egress" }, async (ws) => {
      const name = harness.runtime.resourceName(ws.id);
      const before = await refusals(name);
      const result = await curl(ws.id, lan.url);
      // curl: 7 = could not connect (refused), 28 = timed out (what a silent drop would give)
      assert.equal(result.exitCode, 7, `the LAN host answered or the refusal was slow: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /Failed to connect/);
      const after = await refusals(name);
      assert.ok(after[EGRESS_COUNTERS.denied]! > before[EGRESS_COUNTERS.denied]!, "refused inside the namespace, before anything left it");
      // control: the same host answers over the host's own route, and the internet stays reachable from the workspace
      const fromHost = await runCommand(["curl", "-sS", "--max-time", "5", lan.url]);
      assert.equal(fromHost.stdout, "hello from the fake internet\n");
      assert.equal((await curl(ws.id, internet.url)).stdout, "hello from the fake internet\n");
    });
  });

  test("metadata, CGNAT, RFC 1918 and multicast destinations are refused before a packet leaves the workspace", async () => {
    await harness.with({ network: "egress" }, async (ws) => {
      const name = harness.runtime.resourceName(ws.id);
      let counted = (await refusals(name))[EGRESS_COUNTERS.denied]!;
      // each a SYN the filter answers itself with a reset: nothing reaches any network
      for (const address of ["169.254.169.254", "100.64.0.1", "172.16.0.1", "192.168.0.1", "10.0.0.1"]) {
        const result = await curl(ws.id, `http://${address}:80/`);
        assert.equal(result.exitCode, 7, `${address}: ${result.stderr}`);
        const now = (await refusals(name))[EGRESS_COUNTERS.denied]!;
        assert.ok(now > counted, `${address} was not refused by the egress table`);
        counted = now;
      }
      // UDP too: a datagram to a multicast group is refused (ICMP admin-prohibited), counted
      await harness.sh(ws.id, "bash -c 'echo x > /dev/udp/239.1.2.3/5000'; true");
      assert.ok((await refusals(name))[EGRESS_COUNTERS.denied]! > counted, "multicast was not refused");
    });
  });

  test("DNS goes only to agentiso's resolver: port 53 of any other server is refused", async () => {
    await harness.with({ network: "egress" }, async (ws) => {
      const name = harness.runtime.resourceName(ws.id);
      const before = (await refusals(name))[EGRESS_COUNTERS.dns]!;
      // the fake internet is otherwise reachable; its port 53 over TCP and UDP is not
      assert.equal((await curl(ws.id, `http://${internet.address}:53/`)).exitCode, 7);
      await harness.sh(ws.id, `bash -c 'echo x > /dev/udp/${internet.address}/53'; true`);
      assert.ok((await refusals(name))[EGRESS_COUNTERS.dns]! >= before + 2, "TCP and UDP to port 53 were both refused");
      assert.equal((await harness.sh(ws.id, "cat /etc/resolv.conf")).stdout, "nameserver 10.0.2.3\n");
    });
  });

  test("the operator's [net] policy: an allowed range becomes reachable, an extra denied one does not, the host never", async () => {
    await harness.with({ network: "egress" }, async (ws) => {
      const name = harness.runtime.resourceName(ws.id);
      const policy = { allow: [`${lan.address}/32`, `${internet.hostAddress}/32`], deny: [`${internet.address}/32`] };
      await new WorkspaceNetwork({ logger: silentLogger, policy }).setMode(name, "egress", `${ws.runDir}/slirp.log`);
      assert.equal((await curl(ws.id, lan.url)).stdout, "hello from the fake internet\n", "the allowed LAN host is reachable");
      assert.equal((await curl(ws.id, internet.url)).exitCode, 7, "the extra denied range is refused");
      const host = await curl(ws.id, `http://${internet.hostAddress}:${hostServer.port}/`);
      assert.notEqual(host.exitCode, 0, `an allow exception opened the host itself: ${host.stdout}`);
      await harness.runtime.setNetwork(ws.id, "egress");
      assert.equal((await curl(ws.id, internet.url)).exitCode, 0, "the default filter lets the internet through again");
      assert.equal((await curl(ws.id, lan.url)).exitCode, 7, "and refuses the LAN again");
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
