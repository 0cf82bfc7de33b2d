// Network mode allowlist (issue 13) through the daemon, with real runc, slirp4netns and nft:
// names resolve only through the daemon's DNS gate, which asks an upstream of the test's own
// (a DNS server on its fake internet, `[net] upstreamDns`) and admits only what it answered;
// every other address is refused at once. One workspace (and one fork of it) for the file.
// Every address a workspace is sent to is the test's own, or refused before a packet leaves.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { privateSubnet, startFakeInternet, type FakeInternet } from "../support/runtime-fake-internet.js";
import { startFakeDns, type FakeDns } from "../support/fake-dns.js";
import { startFakeTlsSite, type FakeTlsSite } from "../support/fake-tls-site.js";

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
    dns = await startFakeDns(internet, records);
    cli = new CliHarness({ AGENTISO_METRICS_LISTEN: "127.0.0.1:0" });
    await cli.ok(["init", "--pool-size", "8G"]);
    writeFileSync(join(cli.home, "config.toml"), `[net]\nupstreamDns = "${dns.upstream}"\n`);
    const created = await cli.json<{ network: string; allowlist: { allow: string[] } }>(["ws", "create", "--name", "al", "--network", "allowlist", ...allow.flatMap((a) => ["--allow", a])]);
    assert.equal(created.network, "allowlist");
    assert.deepEqual(created.allowlist.allow, allow);
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
    await cli.ok(["ws", "network", "al", "egress"]);
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
