// The allowlist's pieces without a namespace: entries (names, wildcards, ports, CIDRs), how a
// name is judged, the nft table and set updates it generates, and the DNS wire format.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertPublicEntries, judgeName, normalizePolicy, parseAllowEntry, parseAllowList } from "../../src/core/network-allowlist.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { admitAddressesScript, ALLOWLIST_COUNTERS, ALLOWLIST_SETS, allowlistRuleset } from "../../src/net/allowlist-rules.js";
import { EGRESS_COUNTERS, EGRESS_TABLE } from "../../src/net/egress-rules.js";
import { answerAddresses, DNS_RCODE, parseQuestion, refusal } from "../../src/net/dns-message.js";
import { parseUpstreamDns } from "../../src/net/upstream-dns.js";

const refused = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (err: unknown) => isAgentisoError(err) && err.code === "INVALID_INPUT" && message.test(err.message));

describe("allowlist entries", () => {
  test("names, wildcards, ports and CIDRs parse to one canonical spelling", () => {
    assert.deepEqual(parseAllowEntry("Registry.NPMjs.org."), { kind: "name", name: "registry.npmjs.org", wildcard: false });
    assert.deepEqual(parseAllowEntry("*.pythonhosted.org"), { kind: "name", name: "pythonhosted.org", wildcard: true });
    assert.deepEqual(parseAllowEntry("github.com:443"), { kind: "name", name: "github.com", wildcard: false, port: 443 });
    assert.deepEqual(parseAllowEntry("10.1.2.3/32:5432"), { kind: "cidr", cidr: "10.1.2.3/32", port: 5432 });
    assert.deepEqual(parseAllowEntry("203.0.113.7"), { kind: "cidr", cidr: "203.0.113.7/32" });
    assert.deepEqual(parseAllowEntry("[2001:DB8::/32]:443"), { kind: "cidr", cidr: "2001:db8::/32", port: 443 });
    assert.deepEqual(parseAllowEntry("2001:db8::1"), { kind: "cidr", cidr: "2001:db8::1/128" });
    assert.deepEqual(parseAllowList(["GitHub.com:443", "github.com:443", "203.0.113.7", "[2001:db8::/32]:443"]), ["github.com:443", "203.0.113.7/32", "[2001:db8::/32]:443"]);
  });

  test("a bad entry is INVALID_INPUT naming it", () => {
    refused(() => parseAllowEntry("bad_name!"), /"bad_name!" is not a DNS name/);
    refused(() => parseAllowEntry("*.com"), /wildcard over a top-level domain/);
    refused(() => parseAllowEntry("a.*.example.com"), /not a DNS name/);
    refused(() => parseAllowEntry("example.com:0"), /port outside/);
    refused(() => parseAllowEntry("example.com:http"), /port outside/);
    refused(() => parseAllowEntry("10.0.0.0/33"), /not a valid address/);
    refused(() => parseAllowEntry("999.1.1.1"), /not a valid address/);
    refused(() => parseAllowEntry("[2001:db8::1"), /no closing/);
    refused(() => parseAllowEntry("a.com; drop table"), /not a DNS name/);
    refused(() => parseAllowEntry(`${"a".repeat(64)}.com`), /not a DNS name/);
    refused(() => parseAllowList(Array.from({ length: 257 }, (_, i) => `h${i}.example.com`)), /at most 256/);
  });

  test("a policy: lists only for allowlist, at least one allow, deny without ports", () => {
    assert.deepEqual(normalizePolicy({ mode: "egress" }), { mode: "egress", allow: [], deny: [] });
    refused(() => normalizePolicy({ mode: "egress", allow: ["a.com"] }), /need mode allowlist/);
    refused(() => normalizePolicy({ mode: "allowlist", allow: [] }), /at least one allow entry/);
    refused(() => normalizePolicy({ mode: "allowlist", allow: ["a.com"], deny: ["b.a.com:443"] }), /has a port/);
  });

  test("names match exactly or below a wildcard; deny wins; ports add up", () => {
    const policy = normalizePolicy({ mode: "allowlist", allow: ["registry.npmjs.org", "*.pythonhosted.org", "github.com:443", "github.com:22"], deny: ["evil.pythonhosted.org"] });
    assert.deepEqual(judgeName(policy, "registry.npmjs.org."), { allowed: true, anyPort: true, ports: [] });
    assert.deepEqual(judgeName(policy, "files.pythonhosted.org"), { allowed: true, anyPort: true, ports: [] });
    assert.deepEqual(judgeName(policy, "a.b.pythonhosted.org"), { allowed: true, anyPort: true, ports: [] });
    assert.deepEqual(judgeName(policy, "pythonhosted.org"), { allowed: false }); // the wildcard is below the name only
    assert.deepEqual(judgeName(policy, "EVIL.pythonhosted.org"), { allowed: false });
    assert.deepEqual(judgeName(policy, "github.com"), { allowed: true, anyPort: false, ports: [443, 22] });
    assert.deepEqual(judgeName(policy, "api.github.com"), { allowed: false });
    assert.deepEqual(judgeName(policy, "npmjs.org"), { allowed: false });
    assert.deepEqual(judgeName(policy, "registry.npmjs.org.evil.com"), { allowed: false });
  });

  test("private, link-local and reserved CIDRs need the operator's exception", () => {
    assertPublicEntries(["93.184.216.0/24", "github.com", "[2606:4700::/32]:443"], []);
    refused(() => assertPublicEntries(["203.0.113.0/24"], []), /reserved/); // documentation ranges are no destination either
    refused(() => assertPublicEntries(["10.1.2.3/32:5432"], []), /private, local or reserved.*\[net\] allow/);
    refused(() => assertPublicEntries(["169.254.169.254"], []), /private/);
    refused(() => assertPublicEntries(["0.0.0.0/0"], []), /private/);
    refused(() => assertPublicEntries(["fe80::/64"], []), /private/);
    refused(() => assertPublicEntries(["8.0.0.0/4"], []), /private/); // reaches into 10/8
    assertPublicEntries(["10.1.2.3/32:5432"], ["10.1.2.0/24"]);
    refused(() => assertPublicEntries(["10.1.0.0/16"], ["10.1.2.0/24"]), /private/); // wider than the exception
  });
});

describe("allowlist nftables table", () => {
  const host = { v4: ["192.0.2.10"], v6: ["2001:db8::5"] };
  const policy = normalizePolicy({ mode: "allowlist", allow: ["pkgs.example.com", "198.51.100.0/24", "10.1.2.3/32:5432", "[2001:db8::/32]:443"], deny: ["198.51.100.7"] });
  const script = allowlistRuleset(host, { allow: ["10.1.2.3/32"], deny: ["203.0.113.0/24"] }, policy);
  const lines = script.split("\n").map((l) => l.trim());
  const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));

  test("replaces the egress table atomically, with the answered-address sets and counters", () => {
    assert.deepEqual(lines.slice(0, 3), [`add table inet ${EGRESS_TABLE}`, `delete table inet ${EGRESS_TABLE}`, `table inet ${EGRESS_TABLE} {`]);
    for (const set of Object.values(ALLOWLIST_SETS)) assert.ok(at(new RegExp(`^set ${set} \\{ type .*; flags timeout; \\}$`)) > 0, set);
    for (const counter of [...Object.values(EGRESS_COUNTERS), ...Object.values(ALLOWLIST_COUNTERS)]) assert.ok(lines.includes(`counter ${counter} {}`), counter);
  });

  test("order: loopback, established, DNS elsewhere, the host, denied entries, private ranges (but the operator's exceptions), then what is allowed, then reject", () => {
    const order = [
      at(/^oifname "lo" accept$/),
      at(/^ct state established,related accept$/),
      at(/^udp dport 53 .*refused_dns reject/),
      at(/^ip daddr \{ 10\.0\.2\.0\/24, 192\.0\.2\.10 \} .*refused_host reject/),
      at(/^ip daddr \{ 198\.51\.100\.7\/32 \} .*refused_unlisted reject/),
      at(/^ip daddr \{ 0\.0\.0\.0\/8, 10\.0\.0\.0\/8.*203\.0\.113\.0\/24 \} ip daddr != \{ 10\.1\.2\.3\/32 \} .*refused_private reject/),
      at(/^ip daddr @answered_v4 counter name allowed accept$/),
      at(/^meta l4proto \{ tcp, udp \} ip daddr \. th dport @answered_v4_port counter name allowed accept$/),
      at(/^ip daddr 198\.51\.100\.0\/24 counter name allowed accept$/),
      at(/^meta l4proto \{ tcp, udp \} ip daddr 10\.1\.2\.3\/32 th dport 5432 counter name allowed accept$/),
      at(/^meta l4proto \{ tcp, udp \} ip6 daddr 2001:db8::\/32 th dport 443 counter name allowed accept$/),
      at(/^meta l4proto tcp counter name refused_unlisted reject with tcp reset$/),
      at(/^counter name refused_unlisted reject with icmpx type admin-prohibited$/),
    ];
    for (const index of order) assert.ok(index > 0, script);
    assert.deepEqual([...order].sort((a, b) => a - b), order, script);
    assert.ok(!script.includes("pkgs.example.com"), "names never reach the table: only answered addresses do");
  });

  test("answered addresses refresh their timeout: add, delete, add in one script", () => {
    const admitted = admitAddressesScript([
      { family: 4, address: "198.51.100.9", ports: [], ttlSeconds: 60 },
      { family: 4, address: "198.51.100.10", ports: [443, 22], ttlSeconds: 30 },
      { family: 6, address: "2001:db8:0:0:0:0:0:9", ports: [], ttlSeconds: 90 },
    ]);
    assert.deepEqual(admitted.trim().split("\n"), [
      `add element inet ${EGRESS_TABLE} answered_v4 { 198.51.100.9 timeout 60s }`,
      `delete element inet ${EGRESS_TABLE} answered_v4 { 198.51.100.9 }`,
      `add element inet ${EGRESS_TABLE} answered_v4 { 198.51.100.9 timeout 60s }`,
      `add element inet ${EGRESS_TABLE} answered_v4_port { 198.51.100.10 . 443 timeout 30s, 198.51.100.10 . 22 timeout 30s }`,
      `delete element inet ${EGRESS_TABLE} answered_v4_port { 198.51.100.10 . 443, 198.51.100.10 . 22 }`,
      `add element inet ${EGRESS_TABLE} answered_v4_port { 198.51.100.10 . 443 timeout 30s, 198.51.100.10 . 22 timeout 30s }`,
      `add element inet ${EGRESS_TABLE} answered_v6 { 2001:db8:0:0:0:0:0:9 timeout 90s }`,
      `delete element inet ${EGRESS_TABLE} answered_v6 { 2001:db8:0:0:0:0:0:9 }`,
      `add element inet ${EGRESS_TABLE} answered_v6 { 2001:db8:0:0:0:0:0:9 timeout 90s }`,
    ]);
  });
});

// A query for name/type as a resolver sends it (RD set, one question).
function query(name: string, type: number, id = 0x1234): Buffer {
  const labels = name.split(".").map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)]));
  const header = Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, ...labels, Buffer.from([0, type >> 8, type & 255, 0, 1])]);
}

describe("DNS messages", () => {
  test("the question of a query; nothing for a response, several questions or a pointer", () => {
    assert.deepEqual(parseQuestion(query("Pkgs.Example.com", 1)), { id: 0x1234, name: "pkgs.example.com", type: 1, end: 12 + 18 + 4 });
    const response = query("a.com", 1);
    response[2] = 0x81;
    assert.equal(parseQuestion(response), undefined);
    const two = query("a.com", 1);
    two[5] = 2;
    assert.equal(parseQuestion(two), undefined);
    assert.equal(parseQuestion(Buffer.concat([query("a.com", 1).subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])])), undefined);
    assert.equal(parseQuestion(query("a.com", 1).subarray(0, 14)), undefined);
  });

  test("a refusal echoes id and question with the rcode and no records", () => {
    const asked = query("evil.com", 28, 0xbeef);
    const reply = refusal(asked, parseQuestion(asked)!, DNS_RCODE.NXDOMAIN);
    assert.equal(reply.readUInt16BE(0), 0xbeef);
    assert.equal(reply.readUInt16BE(2), 0x8183); // QR, RD, RA, NXDOMAIN
    assert.deepEqual([reply.readUInt16BE(4), reply.readUInt16BE(6), reply.readUInt16BE(8), reply.readUInt16BE(10)], [1, 0, 0, 0]);
    assert.deepEqual(reply.subarray(12), asked.subarray(12));
  });

  test("A and AAAA records of an answer with their TTLs, through a CNAME and compressed names", () => {
    const asked = query("www.example.com", 1);
    const header = Buffer.from(asked.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(3, 6);
    const cname = Buffer.from([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 30, 0, 6, 3, 99, 100, 110, 0xc0, 16]); // www → cdn.example.com
    const a = Buffer.from([0xc0, 12 + 21 + 12 + 6, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 198, 51, 100, 9]);
    const aaaa = Buffer.concat([Buffer.from([0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 5, 0, 16]), Buffer.from("20010db8000000000000000000000009", "hex")]);
    const message = Buffer.concat([header, asked.subarray(12), cname, a, aaaa]);
    assert.deepEqual(answerAddresses(message), [
      { family: 4, address: "198.51.100.9", ttlSeconds: 300 },
      { family: 6, address: "2001:db8:0:0:0:0:0:9", ttlSeconds: 5 },
    ]);
    assert.deepEqual(answerAddresses(message.subarray(0, message.length - 3)), [{ family: 4, address: "198.51.100.9", ttlSeconds: 300 }]);
  });

  test("upstream DNS addresses", () => {
    assert.deepEqual(parseUpstreamDns("1.1.1.1"), { host: "1.1.1.1", port: 53 });
    assert.deepEqual(parseUpstreamDns("127.0.0.53:5353"), { host: "127.0.0.53", port: 5353 });
    assert.deepEqual(parseUpstreamDns("[2001:db8::1]:53"), { host: "2001:db8::1", port: 53 });
    refused(() => parseUpstreamDns("dns.example.com"), /not an IP address/);
  });
});
