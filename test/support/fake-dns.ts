// A DNS server of the test's own on its fake internet (runtime-fake-internet.ts): it answers A
// records for the names it is given (TTL 60), NXDOMAIN for any other, and prints each name it
// is asked, so a test can prove which names reached the upstream at all; a name it is told to
// keep silent about it never answers (an upstream that hangs). It listens on UDP 53
// of an address inside the fake internet's namespace: what `[net] upstreamDns` points at.
import { spawn, type ChildProcess } from "node:child_process";
import type { FakeInternet } from "./runtime-fake-internet.js";

const DNS_SOURCE = `
const dgram = require("node:dgram");
const [address, records, silent] = [process.argv[1], JSON.parse(process.argv[2]), new Set(JSON.parse(process.argv[3]))];
const socket = dgram.createSocket("udp4");
socket.on("message", (query, from) => {
  let offset = 12; const labels = [];
  while (query[offset]) { labels.push(query.toString("latin1", offset + 1, offset + 1 + query[offset])); offset += query[offset] + 1; }
  const end = offset + 5; const name = labels.join(".").toLowerCase(); const type = query.readUInt16BE(offset + 1);
  process.stdout.write("asked " + name + "\\n");
  if (silent.has(name)) return;
  const found = records[name];
  const header = Buffer.from(query.subarray(0, 12));
  header.writeUInt16BE(0x8180 | (found ? 0 : 3), 2);
  header.writeUInt16BE(found && type === 1 ? 1 : 0, 6); header.writeUInt32BE(0, 8);
  const answer = found && type === 1 ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...found.split(".").map(Number)]) : Buffer.alloc(0);
  socket.send(Buffer.concat([header, query.subarray(12, end), answer]), from.port, from.address);
});
socket.bind(53, address, () => process.stdout.write("ready\\n"));
process.on("SIGTERM", () => process.exit(0));
`;

export interface FakeDns {
  /** address:53, for [net] upstreamDns */
  upstream: string;
  /** Every name asked so far, in order. */
  asked: string[];
  close(): Promise<void>;
}

// Starts the server inside `internet`'s namespace on its server address; records: name → IPv4;
// silent: names asked but never answered.
export async function startFakeDns(internet: FakeInternet, records: Record<string, string>, options: { silent?: string[] } = {}): Promise<FakeDns> {
  const argv = [`--net=/run/netns/${internet.netns}`, "--", process.execPath, "-e", DNS_SOURCE, internet.address, JSON.stringify(records), JSON.stringify(options.silent ?? [])];
  const server: ChildProcess = spawn("nsenter", argv, { stdio: ["ignore", "pipe", "inherit"] });
  const asked: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let pending = "";
    server.stdout!.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (line === "ready") resolve();
        else if (line.startsWith("asked ")) asked.push(line.slice(6));
      }
    });
    server.once("exit", (code) => reject(new Error(`fake DNS server exited with ${code}`)));
  });
  server.removeAllListeners("exit");
  return {
    upstream: `${internet.address}:53`,
    asked,
    close: async () => {
      if (server.exitCode !== null) return;
      server.kill("SIGKILL");
      await new Promise((resolve) => server.once("exit", resolve));
    },
  };
}
