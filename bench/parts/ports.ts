// Exposed ports (`ws port`, port_forward): what a connection from the host to a dev server in a
// workspace costs through the forward (a host listener + one agent tunnel per connection),
// against the same server run on the host and reached directly over loopback in the same run.
// Download and upload throughput (MB/s) and request latency, a new connection per request and
// one kept alive. A container always; a microVM too when QEMU is here (TCG: no /dev/kvm).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { Agent, request } from "node:http";
import type { BenchPart } from "../index.js";
import { ms, percentile, ratio, sample } from "../stats.js";
import { startDaemonRig, type DaemonRig } from "../daemon-rig.js";

const MiB = 1024 * 1024;
// GET /big/N answers N MiB, POST answers how many bytes it read, anything else "ok".
const SERVER = `const http = require("http"); const chunk = Buffer.alloc(1 << 20, 120);
http.createServer((q, s) => {
  if (q.url.startsWith("/big/")) {
    const n = Number(q.url.slice(5)); let i = 0;
    s.writeHead(200, { "content-length": n * chunk.length });
    (function more() { while (i < n) { i++; if (!s.write(chunk)) return s.once("drain", more); } s.end(); })();
  } else if (q.method === "POST") { let n = 0; q.on("data", (c) => (n += c.length)); q.on("end", () => s.end(String(n))); }
  else s.end("ok");
}).listen(Number(process.argv[1]), function () { console.log(this.address().port); });`;

interface Target {
  label: string;
  port: number;
}

const part: BenchPart = {
  name: "exposed ports: throughput and latency through a forward vs direct loopback",
  async unavailable() {
    return process.getuid?.() === 0 ? undefined : "needs root";
  },
  async run(report) {
    const host = await hostServer();
    try {
      await using rig = await startDaemonRig({ AGENTISO_VM_ACCEL: "tcg" });
      const direct: Target = { label: "direct loopback (host server)", port: host.port };
      const container = await forwardedServer(rig, "container");
      await measure([direct, { label: "forward → container", port: container }], 64, report);
      if (existsSync("/usr/bin/qemu-system-x86_64")) {
        const vm = await forwardedServer(rig, "vm");
        await measure([direct, { label: "forward → microVM (TCG)", port: vm }], 16, report);
      } else report("microVM: skipped (no qemu-system-x86_64)");
    } finally {
      host.child.kill("SIGTERM");
    }
  },
};

// The same server on the host, on a free loopback port: the baseline.
async function hostServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["-e", SERVER.replace("listen(Number(process.argv[1]),", 'listen(Number(process.argv[1]), "127.0.0.1",'), "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await new Promise<string>((resolve) => child.stdout!.once("data", (c: Buffer) => resolve(c.toString())))).split("\n");
  return { child, port: Number(line) };
}

// A workspace of the runtime running the server on port 3000, forwarded to a free host port.
async function forwardedServer(rig: DaemonRig, runtime: "container" | "vm"): Promise<number> {
  const ws = await rig.api.call<{ name: string }>("workspace_create", { runtime, memory: "512M" });
  await rig.api.call("exec_background", { workspace: ws.name, action: "start", argv: ["node", "-e", SERVER, "3000"] });
  await rig.api.call("exec", { workspace: ws.name, command: "for i in $(seq 600); do curl -fsS -o /dev/null http://127.0.0.1:3000/ && exit 0; sleep 0.1; done; exit 1" });
  return (await rig.api.call<{ hostPort: number }>("port_forward", { workspace: ws.name, action: "add", guestPort: 3000 })).hostPort;
}

async function measure(targets: Target[], sizeMiB: number, report: (line: string) => void): Promise<void> {
  const measured = [];
  for (const target of targets) measured.push({ ...target, ...(await timings(target.port, sizeMiB)) });
  const [baseline, ...others] = measured;
  for (const t of [baseline!, ...others]) {
    const vs = t === baseline ? "" : `  (${ratio(baseline!.downMBs, t.downMBs)} slower down, ${ratio(baseline!.upMBs, t.upMBs)} up, ${ratio(t.newConnP50, baseline!.newConnP50)} the latency)`;
    report(
      `${t.label.padEnd(30)} ${sizeMiB} MiB down ${t.downMBs.toFixed(1)} MB/s, up ${t.upMBs.toFixed(1)} MB/s; GET new connection p50 ${ms(t.newConnP50)} p95 ${ms(t.newConnP95)}, kept alive p50 ${ms(t.keptP50)}${vs}`,
    );
  }
}

// Timed one after the other, never two targets at once (they share 2 cores with the daemon).
async function timings(port: number, sizeMiB: number) {
  await call(port, "GET", "/big/1"); // warm up: connects the agent, loads the server's code paths
  const downMs = Math.min(...(await sample(3, () => call(port, "GET", `/big/${sizeMiB}`), 0)));
  const upMs = Math.min(...(await sample(3, () => call(port, "POST", "/", Buffer.alloc(sizeMiB * MiB, 97)), 0)));
  const fresh = await sample(40, () => call(port, "GET", "/"));
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  const kept = await sample(40, () => call(port, "GET", "/", undefined, keepAlive));
  keepAlive.destroy();
  const mbs = (took: number) => (sizeMiB * MiB) / 1e6 / (took / 1000);
  return { downMBs: mbs(downMs), upMBs: mbs(upMs), newConnP50: percentile(fresh, 50), newConnP95: percentile(fresh, 95), keptP50: percentile(kept, 50) };
}

// One HTTP request to 127.0.0.1:port, body read to the end; a new connection unless an agent is given.
function call(port: number, method: string, path: string, body?: Buffer, agent?: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, agent: agent ?? false }, (res) => {
      res.on("data", () => {});
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`${method} ${path}: HTTP ${res.statusCode}`))));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

export default part;
