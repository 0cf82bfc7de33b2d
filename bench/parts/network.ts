// Network allowlist (issue 13): what a new connection costs from a workspace in allowlist mode
// against one in plain egress, in the same run, to a server on the test's own fake internet.
// By address (the nft table alone: a CIDR entry against egress's table), and by name: each
// request resolves the name through the daemon's DNS gate (asked of a DNS server of our own,
// its answer admitted into the namespace's sets before it is passed on), then connects.
// Nothing leaves the machine: the "internet" is a namespace of ours.
import type { BenchPart } from "../index.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ms, percentile, ratio } from "../stats.js";
import { startDaemonRig } from "../daemon-rig.js";
import { startFakeInternet } from "../../test/support/runtime-fake-internet.js";
import { startFakeDns } from "../../test/support/fake-dns.js";

const REQUESTS = 40;
// In the workspace: GET url on a new connection (and, for a name, a new lookup) `n` times after 3 untimed; prints the ms.
const CLIENT = `const http = require("http"); const [url, n] = [process.argv[1], Number(process.argv[2])];
const get = () => new Promise((ok, fail) => http.get(url, { agent: false }, (r) => { r.resume(); r.on("end", ok); }).on("error", fail));
(async () => { for (let i = 0; i < 3; i++) await get(); const s = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await get(); s.push(performance.now() - t); }
  console.log(JSON.stringify(s)); })();`;

const part: BenchPart = {
  name: "network allowlist: new-connection latency vs plain egress",
  async unavailable() {
    return process.getuid?.() === 0 ? undefined : "needs root";
  },
  async run(report) {
    const internet = await startFakeInternet();
    const dns = await startFakeDns(internet, { "bench.fake.test": internet.address });
    try {
      await using rig = await startDaemonRig();
      // the fake internet is in 198.18.0.0/15 (not public): an operator's exception lets a CIDR entry name it
      writeFileSync(join(rig.home, "config.toml"), `[net]\nupstreamDns = "${dns.upstream}"\nallow = ["${internet.address}/32"]\n`);
      await rig.cli(["daemon", "stop"]);
      await rig.cli(["daemon"]);
      const egress = await rig.api.call<{ name: string }>("workspace_create", { name: "bench-egress", network: "egress", memory: "256M" });
      const allow = ["bench.fake.test:8080", `${internet.address}/32:8080`];
      const allowlist = await rig.api.call<{ name: string }>("workspace_create", { name: "bench-allow", network: "allowlist", allow, memory: "256M" });
      const timed = async (workspace: string, url: string) => {
        const run = await rig.api.call<{ exitCode: number; stdout: string; stderr: string }>("exec", { workspace, argv: ["node", "-e", CLIENT, url, String(REQUESTS)] });
        if (run.exitCode !== 0) throw new Error(`${workspace} ${url}: ${run.stderr}`);
        return JSON.parse(run.stdout) as number[];
      };
      const byAddress = `http://${internet.address}:8080/`;
      // alternated, so both see the same load
      const rows: Array<[string, number[]]> = [
        ["egress, by address", await timed(egress.name, byAddress)],
        ["allowlist, by address (CIDR entry)", await timed(allowlist.name, byAddress)],
        ["allowlist, by name (lookup through the gate + connect)", await timed(allowlist.name, "http://bench.fake.test:8080/")],
        ["egress, by address (again)", await timed(egress.name, byAddress)],
      ];
      const baseline = percentile([...rows[0]![1], ...rows[3]![1]], 50);
      for (const [label, samples] of rows) {
        const p50 = percentile(samples, 50);
        report(`${label.padEnd(56)} GET on a new connection p50 ${ms(p50)} p95 ${ms(percentile(samples, 95))}  (${ratio(p50, baseline)} egress)`);
      }
      report(`upstream DNS asked ${dns.asked.length} times (the gate caches no answer; an address admitted for more than half its TTL is not written to nft again)`);
    } finally {
      await dns.close();
      await internet.close();
    }
  },
};

export default part;
