// Guest protocol benchmark, against the real bundled agent on a unix socket: the round trip
// of `exec true` against spawning `true` directly on the host (same run), the bare protocol
// round trip (ping), and the read throughput of a 64 MiB file (streamed download).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BenchPart } from "../index.js";
import { ms, percentile, ratio, sample } from "../stats.js";
import { AGENT_BUNDLE, startAgentProcess } from "../../test/support/agent-process.js";
import type { GuestClient } from "../../src/guest/guest-client.js";

const ROUNDS = 300;
const FILE_BYTES = 64 * 1024 * 1024;

function spawnTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("true", [], { stdio: ["pipe", "pipe", "pipe"] });
    child.once("error", reject);
    child.once("close", () => resolve());
  });
}

async function readThroughput(client: GuestClient, path: string): Promise<number> {
  const start = performance.now();
  let bytes = 0;
  for await (const chunk of client.download(path)) bytes += chunk.length;
  if (bytes !== FILE_BYTES) throw new Error(`downloaded ${bytes} bytes, expected ${FILE_BYTES}`);
  return bytes / 1e6 / ((performance.now() - start) / 1000);
}

const part: BenchPart = {
  name: "protocol: exec round trip over the unix socket vs host spawn; 64 MiB read",
  unavailable: async () => (existsSync(AGENT_BUNDLE) ? undefined : "dist/agentiso-guest.cjs missing (npm run build)"),
  async run(report) {
    await using agent = await startAgentProcess();
    const client = agent.client();
    await client.connect();
    const ping = await sample(ROUNDS, () => client.ping(), 20);
    const inAgent: number[] = [];
    const exec = await sample(ROUNDS, async () => inAgent.push((await client.exec({ argv: ["true"] })).durationMs), 20);
    const host = await sample(ROUNDS, spawnTrue, 20);
    report(`ping round trip:       p50 ${ms(percentile(ping, 50))}  p99 ${ms(percentile(ping, 99))}`);
    report(`exec true via agent:   p50 ${ms(percentile(exec, 50))}  p99 ${ms(percentile(exec, 99))}`);
    report(`  of which spawn→exit in the agent: p50 ${ms(percentile(inAgent, 50))} (the rest is protocol + socket)`);
    report(`spawn true on host:    p50 ${ms(percentile(host, 50))}  p99 ${ms(percentile(host, 99))}`);
    report(`agent/host ratio:      p50 ${ratio(percentile(exec, 50), percentile(host, 50))}  p99 ${ratio(percentile(exec, 99), percentile(host, 99))}`);
    report(`goal exec p50 < 3 ms:  ${percentile(exec, 50) < 3 ? "met" : "NOT met"}`);

    const path = join(agent.dir, "64mib.bin");
    const file = await open(path, "w");
    await file.write(Buffer.alloc(FILE_BYTES, 0x5a));
    await file.close();
    await readFile(path); // warm the page cache so both sides read from memory
    const runs = [await readThroughput(client, path), await readThroughput(client, path), await readThroughput(client, path)];
    const start = performance.now();
    await readFile(path);
    const local = FILE_BYTES / 1e6 / ((performance.now() - start) / 1000);
    report(`64 MiB read via agent: ${Math.max(...runs).toFixed(0)} MB/s best of 3 (median ${[...runs].sort((a, b) => a - b)[1]!.toFixed(0)} MB/s)`);
    report(`64 MiB fs.readFile:    ${local.toFixed(0)} MB/s (host baseline)`);
    await rm(path);
  },
};

export default part;
