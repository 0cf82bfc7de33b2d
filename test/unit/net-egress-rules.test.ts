import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_DENIED_V4, DEFAULT_DENIED_V6, EGRESS_COUNTERS, EGRESS_TABLE, egressRuleset, removeEgressRuleset, SLIRP } from "../../src/net/egress-rules.js";
import { hostAddresses } from "../../src/net/host-addresses.js";
import { parseCidr } from "../../src/core/cidr.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { loadConfig } from "../../src/config/config.js";

const HOST = { v4: ["192.0.2.10", "10.1.2.3"], v6: ["2001:db8::5"] };

/** The rule lines (inside the chain), in order. */
function ruleLines(script: string): string[] {
  const lines = script.split("\n").map((l) => l.trim());
  return lines.slice(lines.findIndex((l) => l.startsWith("type filter hook")) + 1, lines.lastIndexOf("}") - 1);
}

const indexOf = (rules: string[], pattern: RegExp) => rules.findIndex((r) => pattern.test(r));

describe("egress nftables rules", () => {
  const rules = ruleLines(egressRuleset(HOST));

  test("every private, link-local, CGNAT, multicast and reserved range is refused by default", () => {
    const expectedV4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "224.0.0.0/4", "0.0.0.0/8", "240.0.0.0/4"];
    for (const range of expectedV4) assert.ok(DEFAULT_DENIED_V4.includes(range), range);
    for (const range of ["fc00::/7", "fe80::/10", "ff00::/8", "::ffff:0:0/96"]) assert.ok(DEFAULT_DENIED_V6.includes(range), range);
    const v4 = rules.filter((r) => r.startsWith("ip daddr {") && r.includes(EGRESS_COUNTERS.denied));
    const v6 = rules.filter((r) => r.startsWith("ip6 daddr {") && r.includes(EGRESS_COUNTERS.denied));
    assert.equal(v4.length, 2);
    assert.equal(v6.length, 2);
    for (const line of v4) for (const range of DEFAULT_DENIED_V4) assert.ok(line.includes(range), `${range} in ${line}`);
    for (const line of v6) for (const range of DEFAULT_DENIED_V6) assert.ok(line.includes(range), `${range} in ${line}`);
  });

  test("refusals are fast: TCP gets a reset, everything else ICMP admin-prohibited, nothing is silently dropped", () => {
    const script = egressRuleset(HOST);
    assert.doesNotMatch(script, /\bdrop\b/);
    for (const line of rules.filter((r) => r.includes("reject"))) assert.match(line, /counter name refused_\w+ reject with (tcp reset|icmpx type admin-prohibited)$/);
    assert.ok(rules.some((r) => /meta l4proto tcp .*reject with tcp reset/.test(r)));
  });

  test("the host's own addresses and slirp's host alias are refused, before and regardless of any allowed range", () => {
    const allowed = ruleLines(egressRuleset(HOST, { allow: ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"] }));
    const host = indexOf(allowed, new RegExp(`^ip daddr \\{ ${SLIRP.cidr.replace(/[./]/g, "\\$&")}, 192\\.0\\.2\\.10, 10\\.1\\.2\\.3 \\}.*refused_host`));
    const host6 = indexOf(allowed, /^ip6 daddr \{ 2001:db8::5 \}.*refused_host/);
    const accept = indexOf(allowed, /^ip daddr \{ 10\.0\.0\.0\/8, 192\.0\.2\.0\/24 \} accept$/);
    const accept6 = indexOf(allowed, /^ip6 daddr \{ 2001:db8::\/32 \} accept$/);
    assert.ok(host >= 0 && host6 >= 0 && accept >= 0 && accept6 >= 0, allowed.join("\n"));
    assert.ok(host < accept && host6 < accept6, "host rejects come before the exceptions");
    assert.ok(accept < indexOf(allowed, /refused_private/), "exceptions come before the default denies");
  });

  test("DNS goes to slirp's forwarder only: port 53 anywhere else is refused, even inside an allowed range", () => {
    const allowed = ruleLines(egressRuleset(HOST, { allow: ["0.0.0.0/0"] }));
    const dnsAccept = indexOf(allowed, new RegExp(`^ip daddr ${SLIRP.dns.replace(/\./g, "\\.")} udp dport 53 accept$`));
    const dnsAcceptTcp = indexOf(allowed, new RegExp(`^ip daddr ${SLIRP.dns.replace(/\./g, "\\.")} tcp dport 53 accept$`));
    const dnsReject = indexOf(allowed, /^udp dport 53 counter name refused_dns reject/);
    const dnsRejectTcp = indexOf(allowed, /^tcp dport 53 counter name refused_dns reject with tcp reset$/);
    assert.ok(dnsAccept >= 0 && dnsAcceptTcp >= 0 && dnsReject > dnsAccept && dnsRejectTcp > dnsAcceptTcp);
    assert.ok(dnsRejectTcp < indexOf(allowed, /^ip daddr \{ 0\.0\.0\.0\/0 \} accept$/));
    // the only accept for slirp's net is that one address and port: 10.0.2.3:80 falls to the host reject
    assert.equal(allowed.filter((r) => r.includes(SLIRP.dns)).length, 2);
  });

  test("loopback stays allowed and comes first", () => {
    assert.equal(rules[0], 'oifname "lo" accept');
  });

  test("the operator's extra denied ranges join the defaults, per family", () => {
    const extra = ruleLines(egressRuleset(HOST, { deny: ["203.0.113.0/24", "2001:db8:1::/48"] }));
    assert.ok(extra.some((r) => r.startsWith("ip daddr {") && r.includes("203.0.113.0/24") && r.includes("10.0.0.0/8")));
    assert.ok(extra.some((r) => r.startsWith("ip6 daddr {") && r.includes("2001:db8:1::/48") && r.includes("fc00::/7")));
    assert.ok(!extra.some((r) => r.startsWith("ip daddr {") && r.includes("2001:db8:1::/48")));
  });

  test("a host without IPv6 addresses gets no empty set (nft refuses one)", () => {
    const script = egressRuleset({ v4: ["192.0.2.1"], v6: [] });
    assert.doesNotMatch(script, /daddr \{\s*\}/);
    assert.doesNotMatch(script, /ip6 daddr \{ [^}]*\}.*refused_host/);
  });

  test("loading is idempotent: the table is created, emptied and filled in one transaction", () => {
    const lines = egressRuleset(HOST).split("\n");
    assert.equal(lines[0], `add table inet ${EGRESS_TABLE}`);
    assert.equal(lines[1], `delete table inet ${EGRESS_TABLE}`);
    assert.equal(removeEgressRuleset(), `add table inet ${EGRESS_TABLE}\ndelete table inet ${EGRESS_TABLE}\n`);
  });

  test("host addresses exclude loopback and carry no interface scope", () => {
    const { v4, v6 } = hostAddresses();
    assert.ok(!v4.some((a) => a.startsWith("127.")));
    assert.ok(!v6.some((a) => a === "::1" || a.includes("%")));
  });
});

describe("CIDR ranges from configuration", () => {
  test("are written back in one canonical form; a bare address is a /32 or /128", () => {
    assert.equal(parseCidr("10.0.0.0/8"), "10.0.0.0/8");
    assert.equal(parseCidr(" 192.0.2.7 "), "192.0.2.7/32");
    assert.equal(parseCidr("FD00::/8"), "fd00::/8");
    assert.equal(parseCidr("2001:db8::1"), "2001:db8::1/128");
  });

  test("anything else is INVALID_INPUT: nothing but an address and a prefix reaches the nft script", () => {
    for (const bad of ["10.0.0.0/33", "fe80::/129", "10.0.0/8", "example.com", "10.0.0.0/8 } accept", "1.2.3.4/8/9", "", "10.0.0.0/-1", "10.0.0.0/"]) {
      assert.throws(() => parseCidr(bad), (e: unknown) => isAgentisoError(e, "INVALID_INPUT"), bad);
    }
  });

  test("config [net] takes deny and allow lists, validated at load", () => {
    const config = loadConfig({ env: { AGENTISO_HOME: "/nonexistent-secd" }, flags: { net: { deny: ["203.0.113.9"], allow: ["10.1.0.0/16"] } } });
    assert.deepEqual([config.net.deny, config.net.allow], [["203.0.113.9/32"], ["10.1.0.0/16"]]);
    const { deny, allow } = loadConfig({ env: { AGENTISO_HOME: "/nonexistent-secd" } }).net;
    assert.deepEqual([deny, allow], [[], []]);
    assert.throws(
      () => loadConfig({ env: { AGENTISO_HOME: "/nonexistent-secd" }, flags: { net: { deny: ["10.0.0.0/8; flush ruleset"] } } }),
      (e: unknown) => isAgentisoError(e, "INVALID_INPUT") && /net\.deny\.0/.test((e as Error).message),
    );
  });
});
