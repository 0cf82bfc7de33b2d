// The DNS resolver of workspaces in `allowlist` mode, run by the daemon. It answers a name the
// workspace's policy allows by asking the upstream resolver, and before it replies it admits
// the answer's addresses (for the record's TTL, bounded) to the nft sets of the workspace's
// namespace (allowlist-rules.ts); any other name gets NXDOMAIN without leaving the host. So a
// workspace can connect only where a name it may use points, and it cannot lie about it: the
// sets are written by the daemon (the workspace has no NET_ADMIN), and its own DNS traffic
// reaches nothing but this gate.
import { createSocket, type RemoteInfo } from "node:dgram";
import type { Socket } from "node:net";
import { judgeName, type NetworkPolicy } from "../core/network-allowlist.js";
import type { Logger } from "../core/logger.js";
import { answerAddresses, DNS_RCODE, parseQuestion, refusal, type DnsQuestion } from "./dns-message.js";
import { closeGateSockets, openGateSockets, type GateSockets } from "./dns-gate-sockets.js";
import type { AnsweredAddress } from "./allowlist-rules.js";

export interface UpstreamDns {
  host: string;
  port: number;
}

export interface DnsGateOptions {
  logger: Logger;
  upstream: () => UpstreamDns;
  /** Writes answered addresses into the namespace's sets; a failure answers SERVFAIL. */
  admit(netnsName: string, addresses: AnsweredAddress[]): Promise<void>;
  /** How long the upstream may take (default 4 s; a resolver retries after 5). */
  upstreamTimeoutMs?: number;
}

/** What the gate did for one workspace since it was attached. */
export interface DnsGateStats {
  answered: number;
  refused: number;
}

/** Answered addresses are admitted for the record's TTL within these bounds: a short TTL must outlive the connect that follows it. */
export const ADMIT_TTL_SECONDS = { min: 30, max: 3600 } as const;
const MAX_TCP_QUERY_BYTES = 4096;
const MAX_ADMITTED_REMEMBERED = 4096;
// A workspace that floods allowed names must not make the daemon (host root) hold a socket per
// query: past this many upstream queries in flight for one namespace, a query is refused at once.
const MAX_QUERIES_IN_FLIGHT = 64;
const MAX_TCP_CONNECTIONS = 16;

interface Attached {
  policy: NetworkPolicy;
  sockets: GateSockets;
  stats: DnsGateStats;
  /** address|ports → when its set element expires (ms): an answer admitted for more than half its TTL yet is not written again. */
  admitted: Map<string, number>;
  /** Upstream queries under way (bounded by MAX_QUERIES_IN_FLIGHT). */
  inFlight: number;
  /** Open TCP connections: ended with the gate, or a closing server would wait up to their idle timeout. */
  connections: Set<Socket>;
}

export class DnsGate {
  private readonly attached = new Map<string, Attached>();

  constructor(private readonly options: DnsGateOptions) {}

  // Starts answering in the namespace with `policy`, or switches the policy of one already served.
  async attach(netnsName: string, policy: NetworkPolicy): Promise<void> {
    const served = this.attached.get(netnsName);
    if (served) {
      served.policy = policy;
      served.admitted.clear(); // the table was loaded again: its sets are empty
      return;
    }
    const sockets = await openGateSockets(netnsName);
    const entry: Attached = { policy, sockets, stats: { answered: 0, refused: 0 }, admitted: new Map(), inFlight: 0, connections: new Set() };
    sockets.tcp.maxConnections = MAX_TCP_CONNECTIONS;
    this.attached.set(netnsName, entry);
    sockets.udp.on("message", (query, from) => void this.answerUdp(netnsName, query, from));
    sockets.udp.on("error", (err) => this.options.logger.warn("DNS gate socket error", { netns: netnsName, err }));
    sockets.tcp.on("connection", (socket) => {
      entry.connections.add(socket);
      socket.on("close", () => entry.connections.delete(socket));
      this.serveTcp(netnsName, socket);
    });
  }

  // Stops answering (the namespace's resolver address goes too). Idempotent; nothing to do (no
  // process spawned: egress starts pay nothing) for a namespace this daemon does not serve.
  async detach(netnsName: string): Promise<void> {
    const entry = this.attached.get(netnsName);
    if (!entry) return;
    this.attached.delete(netnsName);
    for (const socket of entry.connections) socket.destroy();
    await closeGateSockets(netnsName, entry.sockets);
  }

  isAttached(netnsName: string): boolean {
    return this.attached.has(netnsName);
  }

  stats(netnsName: string): DnsGateStats | undefined {
    const entry = this.attached.get(netnsName);
    return entry && { ...entry.stats };
  }

  async close(): Promise<void> {
    for (const entry of this.attached.values()) {
      entry.sockets.udp.close();
      entry.sockets.tcp.close();
      for (const socket of entry.connections) socket.destroy();
    }
    this.attached.clear();
  }

  private async answerUdp(netnsName: string, query: Buffer, from: RemoteInfo): Promise<void> {
    const reply = await this.answer(netnsName, query);
    const entry = this.attached.get(netnsName);
    if (reply && entry) entry.sockets.udp.send(reply, from.port, from.address);
  }

  // DNS over TCP: two-byte length before each message, in both directions.
  private serveTcp(netnsName: string, socket: Socket): void {
    let pending = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length > MAX_TCP_QUERY_BYTES + 2) return void socket.destroy();
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const query = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + query.length);
        void this.answer(netnsName, Buffer.from(query)).then((reply) => {
          if (!reply || socket.destroyed) return;
          const length = Buffer.alloc(2);
          length.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([length, reply]));
        });
      }
    });
  }

  // The reply to one query, or undefined to drop it (not a query: nothing to answer).
  private async answer(netnsName: string, query: Buffer): Promise<Buffer | undefined> {
    const entry = this.attached.get(netnsName);
    const question = parseQuestion(query);
    if (!entry || !question) return undefined;
    const verdict = judgeName(entry.policy, question.name);
    if (!verdict.allowed) {
      entry.stats.refused++;
      this.options.logger.debug("DNS gate refused a name", { netns: netnsName, name: question.name });
      return refusal(query, question, DNS_RCODE.NXDOMAIN);
    }
    if (entry.inFlight >= MAX_QUERIES_IN_FLIGHT) return refusal(query, question, DNS_RCODE.SERVFAIL);
    entry.inFlight++;
    try {
      const reply = await this.askUpstream(query);
      const ports = verdict.anyPort ? [] : verdict.ports;
      const addresses = answerAddresses(reply).map((a) => ({ ...a, ports, ttlSeconds: boundTtl(a.ttlSeconds) }));
      const fresh = addresses.filter((a) => (entry.admitted.get(`${a.address}|${ports.join(",")}`) ?? 0) < Date.now() + (a.ttlSeconds * 1000) / 2);
      if (fresh.length > 0) await this.options.admit(netnsName, fresh);
      for (const a of fresh) entry.admitted.set(`${a.address}|${ports.join(",")}`, Date.now() + a.ttlSeconds * 1000);
      if (entry.admitted.size > MAX_ADMITTED_REMEMBERED) entry.admitted.clear(); // only a shortcut: forgetting costs one nft run each
      entry.stats.answered++;
      return reply;
    } catch (err) {
      this.options.logger.warn("DNS gate could not answer", { netns: netnsName, name: question.name, err });
      return refusal(query, question as DnsQuestion, DNS_RCODE.SERVFAIL);
    } finally {
      entry.inFlight--;
    }
  }

  // One UDP exchange with the upstream resolver from a fresh port (its reply must carry our id).
  private askUpstream(query: Buffer): Promise<Buffer> {
    const { host, port } = this.options.upstream();
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    return new Promise<Buffer>((resolve, reject) => {
      const done = (err: Error | undefined, reply?: Buffer) => {
        clearTimeout(timer);
        socket.close();
        if (err) reject(err);
        else resolve(reply!);
      };
      const timer = setTimeout(() => done(new Error(`upstream DNS ${host}:${port} did not answer`)), this.options.upstreamTimeoutMs ?? 4000);
      socket.on("error", (err) => done(err));
      socket.on("message", (reply) => {
        if (reply.length >= 2 && reply.readUInt16BE(0) === query.readUInt16BE(0)) done(undefined, reply);
      });
      // a query under way must not hold a stopping daemon up to its timeout
      socket.unref();
      timer.unref();
      socket.send(query, port, host);
    });
  }
}

function boundTtl(ttlSeconds: number): number {
  return Math.min(ADMIT_TTL_SECONDS.max, Math.max(ADMIT_TTL_SECONDS.min, ttlSeconds));
}
