// Network mode allowlist (issue 13) through the daemon, with real runc, slirp4netns and nft:
// names resolve only through the daemon's DNS gate, which asks an upstream of the test's own
// (a DNS server on its fake internet, `[net] upstreamDns`) and admits only what it answered;
// every other address is refused at once. One workspace (and one fork of it) for the file.
// Every address a workspace is sent to is the test's own, or refused before a packet leaves.
// A flood of queries at the gate is bounded per namespace (dns-gate.ts): tried from inside the
// workspace's namespace against an upstream that never answers one allowed name.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { privateSubnet, startFakeInternet, type FakeInternet } from "../support/runtime-fake-internet.js";
import { startFakeDns, type FakeDns } from "../support/fake-dns.js";
import { startFakeTlsSite, type FakeTlsSite } from "../support/fake-tls-site.js";
import { floodUdp, probeTcpBound, whileHoldingTcpConnection } from "../support/dns-flood.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { SLIRP } from "../../src/net/egress-rules.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("slirp4netns"), hasCommand("nft"), hasCommand("openssl"));

// Serves on every address of its namespace (the fake internet's .1 and .2).
const ANY_ADDRESS_SERVER = `
require("node:http").createServer((req, res) => res.end("hello " + req.headers.host + "\\n")).listen(8080, "0.0.0.0", () => process.stdout.write("ready\\n"));
process.on("SIGTERM", () => process.exit(0));
`;

interface Policy {
  workspace: string;
  network: string;
  allow: string[];
  deny: string[];
  traffic?: { allowedConnections: number; refusedConnections: number; namesAnswered: number; namesRefused: number };
}

describe("network allowlist: names through agentiso's DNS gate, nothing else", { skip, timeout: 900_000 }, () => {
  let internet: FakeInternet;
  let lan: FakeInternet;
  let site: FakeTlsSite;
  let dns: FakeDns;
  let cli: CliHarness;
  let alId: string;
  // allowed (by the wildcard), and the upstream never answers it
  const HANG = "hang.mirror.fake.test";
  const allow = ["pkgs.fake.test", "*.mirror.fake.test", "tls.fake.test:8443", "private.fake.test"];
  // curl in the workspace: its exit code (6 cannot resolve, 7 refused, 28 timed out), output and time
  const curl = async (ws: string, args: string) => {
    const started = performance.now();
    const run = await cli.run(["ws", "exec", ws, "--", "sh", "-c", `curl -sS --max-time 5 ${args}`]);
    return { ...run, ms: performance.now() - started };
  };
  const policy = (ws: string) => cli.json<Policy>(["ws", "network", ws]);

  before(async () => {
    await ensureImage("base");
    internet = await startFakeInternet({ serverSource: ANY_ADDRESS_SERVER, extraAddresses: 1 });
    lan = await startFakeInternet({ subnet: await privateSubnet() });
    site = await startFakeTlsSite({ names: ["tls.fake.test"] });
    const records = {
      "pkgs.fake.test": internet.address,
      "eu.mirror.fake.test": internet.address,
      "other.fake.test": internet.extraAddresses[0]!,
      "tls.fake.test": site.internet.address,
      "private.fake.test": lan.address,
    };
    dns = await startFakeDns(internet, records, { silent: [HANG] });
    cli = new CliHarness({ AGENTISO_METRICS_LISTEN: "127.0.0.1:0" });
    await cli.ok(["init", "--pool-size", "8G"]);
    writeFileSync(join(cli.home, "config.toml"), `[net]\nupstreamDns = "${dns.upstream}"\n`);
    const created = await cli.json<{ id: string; network: string; allowlist: { allow: string[] } }>(["ws", "create", "--name", "al", "--network", "allowlist", ...allow.flatMap((a) => ["--allow", a])]);
    assert.equal(created.network, "allowlist");
    assert.deepEqual(created.allowlist.allow, allow);
    alId = created.id;
  });
  after(async () => {
    await cli?.[Symbol.asyncDispose]();
    await dns?.close();
    await site?.close();
    await lan?.close();
    await internet?.close();
  });

  test("an allowed name is reached over HTTP, a wildcard's name too, and HTTPS by name (SNI, the certificate checked)", async () => {
    const http = await curl("al", "http://pkgs.fake.test:8080/");
    assert.equal(http.stdout, "hello pkgs.fake.test:8080\n", http.stderr);
    const wildcard = await curl("al", "http://eu.mirror.fake.test:8080/");
    assert.equal(wildcard.stdout, "hello eu.mirror.fake.test:8080\n", wildcard.stderr);
    await cli.ok(["ws", "cp", site.caFile, "al:/tmp/ca.crt"]);
    const https = await curl("al", "--cacert /tmp/ca.crt https://tls.fake.test:8443/tls-dep/index.json");
    assert.equal(https.code, 0, https.stderr);
    assert.match(https.stdout, /"tls-dep"/);
  });

  test("an unlisted name does not resolve (and never reaches the upstream); its address dialled directly is refused at once", async () => {
    const byName = await curl("al", "http://other.fake.test:8080/");
    assert.equal(byName.code, 6, byName.stderr); // could not resolve host
    assert.ok(!dns.asked.includes("other.fake.test"), `asked upstream: ${dns.asked.join(", ")}`);
    assert.ok(dns.asked.includes("pkgs.fake.test"));
    const direct = await curl("al", `http://${internet.extraAddresses[0]}:8080/`);
    assert.equal(direct.code, 7, direct.stderr); // refused, not timed out
    assert.ok(direct.ms < 3000, `${direct.ms} ms`);
    // a port the name was not allowed on: tls.fake.test only on 8443
    assert.equal((await curl("al", `http://${site.internet.address}:8080/`)).code, 7);
  });

  test("private and link-local addresses are refused fast, even behind an allowed name; the host too", async () => {
    const targets = ["http://private.fake.test:8080/", lan.url, "http://169.254.169.254/", `http://${internet.hostAddress}:8080/`, "http://10.0.2.2:8080/"];
    // one exec for all: each target's curl exit code and seconds
    const script = targets.map((t) => `curl -sS --max-time 5 -o /dev/null -w '%{time_total}' ${t} 2>/dev/null; echo " $?"`).join("; ");
    const lines = (await cli.ok(["ws", "exec", "al", "--", "sh", "-c", script])).trim().split("\n");
    for (const [index, target] of targets.entries()) {
      const [seconds, code] = lines[index]!.split(" ");
      assert.equal(code, "7", `${target}: ${lines[index]}`); // refused, not timed out (28)
      assert.ok(Number(seconds) < 1, `${target} took ${seconds} s`);
    }
    const counted = await policy("al");
    assert.ok(counted.traffic && counted.traffic.allowedConnections >= 3, JSON.stringify(counted.traffic));
    assert.ok(counted.traffic.refusedConnections >= 7, JSON.stringify(counted.traffic));
    assert.ok(counted.traffic.namesAnswered >= 4 && counted.traffic.namesRefused >= 1, JSON.stringify(counted.traffic));
    const { metrics } = await cli.json<{ metrics: { host: string; port: number } }>(["daemon", "status"]);
    const text = await (await fetch(`http://${metrics.host}:${metrics.port}/metrics`)).text();
    const value = (pattern: string) => Number(new RegExp(`^${pattern} (\\d+)$`, "m").exec(text)?.[1]);
    assert.equal(value('agentiso_network_connections_total\\{workspace="al",verdict="allowed"\\}'), counted.traffic.allowedConnections, text);
    assert.ok(value('agentiso_network_connections_total\\{workspace="al",verdict="refused"\\}') >= 7);
    assert.ok(value('agentiso_network_dns_answers_total\\{workspace="al",verdict="refused"\\}') >= 1);
  });

  test("a flood of allowed names is bounded: past 64 upstream queries in flight the gate answers SERVFAIL at once and holds no more sockets", async () => {
    const netns = resourceTagFor(cli.home).name("ws", alId);
    const daemonFds = () => readdirSync(`/proc/${cli.daemonPid()}/fd`).length;
    const fdsBefore = daemonFds();
    let fdsDuring = 0;
    // 200 queries the upstream never answers, then one for a name it answers: all while the 64 wait
    const names = [...Array.from({ length: 200 }, () => HANG), "pkgs.fake.test"];
    const replies = await floodUdp(netns, SLIRP.dns, names, { timeoutMs: 10_000, onSent: () => void (fdsDuring = daemonFds()) });
    const fdsAfter = daemonFds();
    const fast = replies.filter((r) => r.ms < 1000);
    const slow = replies.filter((r) => r.ms >= 1000);
    const range = (rs: typeof replies) => `${Math.min(...rs.map((r) => r.ms)).toFixed(0)}-${Math.max(...rs.map((r) => r.ms)).toFixed(0)} ms`;
    console.log(`DNS flood: ${fast.length} answered at once (${range(fast)}), ${slow.length} after the upstream timeout (${range(slow)}); daemon fds ${fdsBefore} before, ${fdsDuring} during, ${fdsAfter} after`);
    assert.ok(fdsDuring - fdsBefore <= 64 + 8, `the daemon held ${fdsDuring - fdsBefore} more fds during the flood`);
    assert.ok(fdsAfter - fdsBefore <= 4, `the daemon kept ${fdsAfter - fdsBefore} more fds after the flood`);
    assert.equal(replies.length, names.length, "every query was answered");
    assert.deepEqual([...new Set(replies.map((r) => r.rcode))], [2], "all SERVFAIL"); // 2 = SERVFAIL
    assert.equal(slow.length, 64, "as many waited for the upstream as the bound lets in flight");
    assert.ok(slow.every((r) => r.name === HANG && r.ms > 3000), "the ones in flight waited for the gate's upstream timeout");
    assert.equal(fast.length, names.length - 64);
    assert.ok(fast.some((r) => r.name === "pkgs.fake.test"), "a normal name is refused too while the namespace's queries are in flight");
    assert.equal(dns.asked.filter((name) => name === HANG).length, 64, "the upstream saw only the queries in flight");
    // once the flood is over, an allowed name resolves again
    assert.equal((await curl("al", "http://pkgs.fake.test:8080/")).stdout, "hello pkgs.fake.test:8080\n");
  });

  test("the gate takes 16 DNS-over-TCP connections per namespace: the 17th is closed at once, unanswered; one more fits once one closes", async () => {
    const tcp = await probeTcpBound(resourceTagFor(cli.home).name("ws", alId), SLIRP.dns, 16, "other.fake.test");
    console.log(`DNS over TCP: the 17th connection ${tcp.extraClosedMs === null ? "was not closed" : `closed in ${tcp.extraClosedMs.toFixed(0)} ms`}, its query ${tcp.extraRcode === null ? "unanswered" : `answered (${tcp.extraRcode})`}`);
    assert.equal(tcp.extraRcode, null, `the 17th connection was answered: ${JSON.stringify(tcp)}`);
    assert.ok(tcp.extraClosedMs !== null && tcp.extraClosedMs < 1000, JSON.stringify(tcp));
    assert.equal(tcp.lastHeldRcode, 3, `the 16th was not served: ${JSON.stringify(tcp)}`); // NXDOMAIN: an unlisted name
    assert.equal(tcp.freedRcode, 3, `a connection after one closed was not served: ${JSON.stringify(tcp)}`);
  });

  test("a fork inherits the policy; workspaces do not reach each other", async () => {
    await cli.ok(["ws", "snapshot", "al", "s1"]);
    await cli.ok(["ws", "fork", "al", "--snapshot", "s1", "--name", "al2"]);
    const forked = await policy("al2");
    assert.equal(forked.network, "allowlist");
    assert.deepEqual(forked.allow, allow);
    assert.equal((await curl("al2", "http://pkgs.fake.test:8080/")).code, 0);
    assert.equal((await curl("al2", "http://other.fake.test:8080/")).code, 6);
    // al2 serves; al has no route to it but through the host, which is refused
    await cli.ok(["ws", "exec", "al2", "--", "sh", "-c", `node -e 'require("http").createServer((q, s) => s.end("al2")).listen(8123)' >/dev/null 2>&1 &`]);
    // the exec returns before node listens: retry while the port refuses
    assert.equal((await curl("al2", "--retry-connrefused --retry 50 --retry-delay 0 --retry-max-time 20 http://127.0.0.1:8123/")).stdout, "al2");
    for (const target of ["10.0.2.2:8123", `${internet.hostAddress}:8123`]) assert.equal((await curl("al", `http://${target}/`)).code, 7, target);
    await cli.ok(["ws", "destroy", "al2"]);
  });

  test("the policy switches live: egress, another allowlist, none", async () => {
    // a client holding a DNS-over-TCP connection open does not hold the switch (or a daemon stop) up
    const held = await whileHoldingTcpConnection(resourceTagFor(cli.home).name("ws", alId), SLIRP.dns, () => cli.ok(["ws", "network", "al", "egress"]));
    console.log(`switch to egress with a DNS connection held open: ${held.ms.toFixed(0)} ms`);
    assert.ok(held.ms < 5000, `the switch waited for the held connection: ${held.ms.toFixed(0)} ms`);
    assert.equal((await curl("al", `http://${internet.extraAddresses[0]}:8080/`)).code, 0);
    await cli.ok(["ws", "network", "al", "allowlist", "--allow", "other.fake.test", "--ports", "8080"]);
    const switched = await policy("al");
    assert.deepEqual([switched.network, switched.allow], ["allowlist", ["other.fake.test:8080"]]);
    assert.equal((await curl("al", "http://other.fake.test:8080/")).stdout, "hello other.fake.test:8080\n");
    assert.equal((await curl("al", "http://pkgs.fake.test:8080/")).code, 6);
    await cli.ok(["ws", "network", "al", "none"]);
    assert.notEqual((await curl("al", "http://other.fake.test:8080/")).code, 0);
    assert.deepEqual((await policy("al")).allow, []);
  });

  // (every kind of bad entry: test/unit/net-allowlist.test.ts; here one of each place that checks)
  test("bad entries are refused naming the entry, and the policy stays as it was", async () => {
    await cli.ok(["ws", "network", "al", "allowlist", "--allow", "pkgs.fake.test"]);
    const cases: Array<[string[], RegExp]> = [
      [["--allow", "bad_name!"], /"bad_name!" is not a DNS name/],
      [["--allow", "10.0.0.0/8"], /private, local or reserved range.*\[net\] allow/],
      [["--allow", "pkgs.fake.test", "--deny", "x.fake.test:443"], /deny entry "x.fake.test:443" has a port/],
    ];
    for (const [flags, message] of cases) {
      const run = await cli.run(["ws", "network", "al", "allowlist", ...flags]);
      assert.equal(run.code, 2, `${flags.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    assert.deepEqual((await policy("al")).allow, ["pkgs.fake.test"]);
  });
});
