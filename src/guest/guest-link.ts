// The live link to one guest agent: connects lazily through the given connect function,
// greets with hello, reconnects on the next call after the transport dies (requests in
// flight then fail with GUEST_UNREACHABLE), and starts requests whose replies are typed by
// the protocol's REQUEST_REPLIES table. GuestClient and its helpers send everything through it.
import type { Duplex } from "node:stream";
import { AgentisoError } from "../core/errors.js";
import { silentLogger, type Logger } from "../core/logger.js";
import { withDeadline } from "../core/deadline.js";
import { PROTOCOL_VERSION, type HelloReply, type ReplyTo, type RequestType } from "../protocol/index.js";
import type { CallOptions } from "./client-types.js";
import { GuestConnection } from "./guest-connection.js";
import { RequestStream, type RequestBody } from "./request-stream.js";
import { guestUnreachable, abortedError } from "./wire-errors.js";

export interface GuestLinkOptions {
  /** Opens a new byte stream to the agent. */
  connect: () => Promise<Duplex>;
  logger?: Logger;
  /** Deadline for calls that give none; default 30 s. Exec and transfers have none by default. */
  requestTimeoutMs?: number;
  /** Deadline for connect + hello; default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Single-stream transports (virtio-serial): give up on one hello after this long and try
   * again on a fresh connection, until connectTimeoutMs. A hello sent while the agent is
   * reopening its port after the previous host left can be dropped by the guest's driver;
   * hanging up and reconnecting makes the agent read afresh. Default: one attempt.
   */
  helloRetryMs?: number;
}

/**
 * A call's client deadline when CallOptions give none: a number of ms, null for none at all
 * (exec without a command timeout, transfers), or undefined for requestTimeoutMs.
 */
export type DefaultDeadline = number | null | undefined;

/** Requests that only look (the reaper's job check among them): they do not count as activity. */
const LOOKS = new Set<RequestType>(["hello", "ping", "job_list", "job_poll", "configure"]);

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const HELLO_RETRY_PAUSE_MS = 100;

/** One per GuestClient; safe to share between concurrent callers. */
export class GuestLink {
  private current: GuestConnection | undefined;
  private connecting: Promise<GuestConnection> | undefined;
  private closed = false;
  private hello: HelloReply | undefined;
  private readonly logger: Logger;
  private inFlight = 0;
  private lastActivityMs = 0;

  constructor(private readonly options: GuestLinkOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** What the agent said in its hello (after the first successful connect). */
  get agentInfo(): HelloReply | undefined {
    return this.hello;
  }

  /** Work requests in flight (exec, transfers, file changes) and when one last started or ended: idle timeouts read it. */
  get activity(): { inFlight: number; lastActivityMs: number } {
    return { inFlight: this.inFlight, lastActivityMs: this.lastActivityMs };
  }

  /** A deadline signal for calls outside the request table (tunnels): timeoutMs or requestTimeoutMs. */
  deadline(options: CallOptions): AbortSignal {
    return withDeadline(options.timeoutMs ?? this.requestTimeoutMs, options.signal);
  }

  // Sends one request and resolves with the reply REQUEST_REPLIES pairs with its type.
  async request<T extends RequestType>(body: RequestBody<T> & { type: T }, what: string, options: CallOptions, defaultMs?: DefaultDeadline): Promise<ReplyTo<T>> {
    const stream = await this.start<T>(body, what, options, defaultMs === undefined ? this.requestTimeoutMs : defaultMs);
    return stream.result;
  }

  // Starts a request whose stream messages the caller consumes (exec output, transfers).
  async start<T extends RequestType>(body: RequestBody<T> & { type: T }, what: string, options: CallOptions, defaultMs: DefaultDeadline): Promise<RequestStream<T>> {
    const timeoutMs = options.timeoutMs ?? defaultMs ?? undefined;
    // a fresh never-aborting signal per call: a shared one would collect a listener per request
    const signal = timeoutMs === undefined ? (options.signal ?? new AbortController().signal) : withDeadline(timeoutMs, options.signal);
    const connection = await this.connection(signal);
    const stream = new RequestStream<T>(connection, body, what, signal);
    if (!LOOKS.has(body.type)) this.count(stream);
    return stream;
  }

  private count(stream: RequestStream): void {
    this.inFlight += 1;
    this.lastActivityMs = Date.now();
    const settled = () => {
      this.inFlight -= 1;
      this.lastActivityMs = Date.now();
    };
    stream.result.then(settled, settled);
  }

  // The live connection (connecting and greeting first when there is none).
  async connection(signal?: AbortSignal): Promise<GuestConnection> {
    if (this.closed) throw new AgentisoError("INVALID_STATE", "the guest client is closed");
    if (this.current?.isOpen) return this.current;
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    if (!signal) return this.connecting;
    signal.throwIfAborted();
    return Promise.race([this.connecting, new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(abortedError(signal, "connect")), { once: true }))]);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.current?.close();
    await this.current?.closed;
  }

  private get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  private async open(): Promise<GuestConnection> {
    const deadline = Date.now() + (this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    for (;;) {
      const attemptMs = Math.max(1, Math.min(deadline - Date.now(), this.options.helloRetryMs ?? Infinity));
      try {
        return await this.openOnce(AbortSignal.timeout(attemptMs));
      } catch (err) {
        const retry = this.options.helloRetryMs !== undefined && Date.now() < deadline && err instanceof AgentisoError && err.code === "GUEST_UNREACHABLE";
        if (!retry) throw err;
        this.logger.debug("no hello yet: reconnecting", { err });
        await new Promise((resolve) => setTimeout(resolve, HELLO_RETRY_PAUSE_MS));
      }
    }
  }

  private async openOnce(signal: AbortSignal): Promise<GuestConnection> {
    let transport: Duplex;
    try {
      transport = await this.options.connect();
    } catch (err) {
      throw guestUnreachable(`cannot connect: ${(err as Error).message}`, err);
    }
    const connection = new GuestConnection(transport, this.logger);
    const hello = new RequestStream(connection, { type: "hello", version: PROTOCOL_VERSION, client: "agentiso" }, "hello", signal);
    try {
      this.hello = await hello.result;
    } catch (err) {
      connection.close();
      throw err instanceof AgentisoError && err.code === "TIMEOUT" ? guestUnreachable("no hello from the agent", err) : err;
    }
    this.current = connection;
    return connection;
  }
}
