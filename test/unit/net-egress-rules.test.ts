import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EGRESS_TABLE, egressRuleset, removeEgressRuleset, SLIRP } from "../../src/net/egress-rules.js";
import { hostAddresses } from "../../src/net/host-addresses.js";

describe("egress nftables rules", () => {
  const rules = egressRuleset({ v4: ["192.0.2.10", "10.1.2.3"], v6: ["2001:db8::5"] });

  test("every host address, slirp's host alias and link-local metadata are rejected", () => {
    const v4Line = rules.split("\n").find((l) => l.includes("ip daddr {"))!;
    for (const address of ["192.0.2.10", "10.1.2.3", "10.0.2.0/24", "169.254.0.0/16"]) assert.ok(v4Line.includes(address), address);
    assert.match(v4Line, /reject/);
    const v6Line = rules.split("\n").find((l) => l.includes("ip6 daddr {"))!;
    for (const address of ["2001:db8::5", "fe80::/10"]) assert.ok(v6Line.includes(address), address);
    assert.ok(SLIRP.hostAlias.startsWith("10.0.2."));
  });

  test("slirp's DNS forwarder and loopback stay allowed, and they are matched before the rejects", () => {
    const lines = rules.split("\n");
    const reject = lines.findIndex((l) => l.includes("reject"));
    assert.ok(lines.findIndex((l) => l.includes('oifname "lo" accept')) < reject);
    assert.ok(lines.findIndex((l) => l.includes(`ip daddr ${SLIRP.dns} udp dport 53 accept`)) < reject);
  });

  test("loading is idempotent: the table is created, emptied and filled in one transaction", () => {
    const lines = rules.split("\n");
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
