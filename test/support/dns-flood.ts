// Floods a workspace's resolver from inside its network namespace, as a process of the
// workspace would: the host's node entered into the namespace (nsenter --net), so the test
// needs nothing in the image. UDP: one query per name, sent in order from one socket; every
// reply's rcode and how long it took. TCP: as many connections as the resolver takes, one more,
// and what the resolver does with each.
import { spawn } from "node:child_process";
import { netnsPath } from "../../src/net/netns.js";

// query(id, name): a DNS query for the A record of name, recursion desired.
const QUERY_SOURCE = `
const query = (id, name) => {
  const labels = name.split(".").flatMap((label) => [Buffer.from([label.length]), Buffer.from(label, "latin1")]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0); header.writeUInt16BE(0x0100, 2); header.writeUInt16BE(1, 4);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
};
const rcodeOf = (reply) => reply[3] & 0x0f;
`;

const UDP_FLOOD = `${QUERY_SOURCE}
const [server, names, timeoutMs] = [process.argv[1], JSON.parse(process.argv[2]), Number(process.argv[3])];
const socket = require("node:dgram").createSocket("udp4");
const sentAt = new Map(); const replies = [];
const finish = () => { process.stdout.write(JSON.stringify(replies) + "\\n"); process.exit(0); };
socket.on("message", (reply) => {
  const id = reply.readUInt16BE(0);
  if (!sentAt.has(id)) return;
  replies.push({ id, name: names[id], rcode: rcodeOf(reply), ms: performance.now() - sentAt.get(id) });
  sentAt.delete(id);
  if (replies.length === names.length) finish();
});
(async () => {
  for (const [id, name] of names.entries()) {
    sentAt.set(id, performance.now());
    await new Promise((resolve) => socket.send(query(id, name), 53, server, resolve));
  }
  process.stdout.write("sent\\n");
  setTimeout(finish, timeoutMs);
})();
`;

const TCP_CONNECTIONS = `${QUERY_SOURCE}
const [server, held, name] = [process.argv[1], Number(process.argv[2]), process.argv[3]];
const net = require("node:net");
// connects; resolves with the socket and a promise of the first reply's rcode (undefined if closed first)
const open = () => new Promise((resolve, reject) => {
  const socket = net.connect(53, server);
  socket.on("error", () => {});
  const closed = new Promise((done) => socket.once("close", () => done(performance.now())));
  const reply = new Promise((done) => { socket.once("data", (data) => done(rcodeOf(data.subarray(2)))); socket.once("close", () => done(undefined)); });
  socket.once("connect", () => resolve({ socket, closed, reply }));
  socket.once("close", () => reject(new Error("closed before connecting")));
});
const ask = (connection, id) => {
  const body = query(id, name); const length = Buffer.alloc(2); length.writeUInt16BE(body.length);
  connection.socket.write(Buffer.concat([length, body]));
  return Promise.race([connection.reply, new Promise((done) => setTimeout(() => done("no reply"), 3000))]);
};
(async () => {
  const connections = [];
  for (let i = 0; i < held; i++) connections.push(await open());
  // one more: the resolver accepts it (the kernel does) and closes it at once, unanswered
  const started = performance.now();
  const extra = await open();
  const extraRcode = await ask(extra, 1);
  const extraClosedMs = (await Promise.race([extra.closed, new Promise((done) => setTimeout(() => done(NaN), 3000))])) - started;
  const lastHeldRcode = await ask(connections[held - 1], 2);
  connections[0].socket.destroy();
  await connections[0].closed;
  await new Promise((done) => setTimeout(done, 100));
  const freed = await ask(await open(), 3);
  process.stdout.write(JSON.stringify({ extraRcode: extraRcode ?? null, extraClosedMs, lastHeldRcode, freedRcode: freed ?? null }) + "\\n");
  process.exit(0);
})().catch((err) => { process.stdout.write(JSON.stringify({ error: String(err) }) + "\\n"); process.exit(1); });
`;

export interface FloodReply {
  /** The query's index in `names` (its DNS id). */
  id: number;
  name: string;
  rcode: number;
  ms: number;
}

/** What a resolver did with `held` TCP connections and one more (rcodes; null: closed unanswered). */
export interface TcpBound {
  extraRcode: number | null | "no reply";
  /** null: still open 3 s after it was answered or not */
  extraClosedMs: number | null;
  lastHeldRcode: number | null | "no reply";
  freedRcode: number | null | "no reply";
}

// Runs `source` (node) inside the namespace; calls onLine with each stdout line as it comes and returns the last.
function runInside(netns: string, source: string, args: string[], onLine: (line: string) => Promise<void> | void = () => {}): Promise<string> {
  const child = spawn("nsenter", [`--net=${netnsPath(netns)}`, "--", process.execPath, "-e", source, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let pending = "";
    let last = "";
    let chain = Promise.resolve();
    child.stdout!.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        last = line;
        chain = chain.then(() => onLine(line));
      }
    });
    child.once("error", reject);
    child.once("close", (code) => void chain.then(() => (code === 0 ? resolve(last) : reject(new Error(`flood script exited ${code}: ${last}`))), reject));
  });
}

// Sends one UDP query per name to server:53; onSent runs once all are sent (while the slow ones are still pending).
export async function floodUdp(netns: string, server: string, names: string[], options: { timeoutMs: number; onSent?: () => Promise<void> | void }): Promise<FloodReply[]> {
  return JSON.parse(await runInside(netns, UDP_FLOOD, [server, JSON.stringify(names), String(options.timeoutMs)], (line) => (line === "sent" ? options.onSent?.() : undefined))) as FloodReply[];
}

// Holds `held` TCP connections to server:53 and tries one more; queries ask for `name`.
export async function probeTcpBound(netns: string, server: string, held: number, name: string): Promise<TcpBound> {
  return JSON.parse(await runInside(netns, TCP_CONNECTIONS, [server, String(held), name])) as TcpBound;
}

// Holds one idle TCP connection to server:53 from inside the namespace while `during` runs;
// returns how long `during` took. The connection's process ends afterwards, whatever happened.
export async function whileHoldingTcpConnection<T>(netns: string, server: string, during: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const source = `const s = require("node:net").connect(53, process.argv[1], () => process.stdout.write("connected\\n")); s.on("error", () => {}); setTimeout(() => {}, 60000);`;
  const child = spawn("nsenter", [`--net=${netnsPath(netns)}`, "--", process.execPath, "-e", source, server], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("connected") && resolve());
      child.once("error", reject);
      child.once("close", (code) => reject(new Error(`the connection's process exited ${code} before connecting`)));
    });
    const started = performance.now();
    const result = await during();
    return { result, ms: performance.now() - started };
  } finally {
    child.kill("SIGKILL");
  }
}
