// The host side of the agent protocol: one client per workspace. It connects lazily through
// the given connect function (unix socket, in-memory pair), greets with hello, multiplexes
// any number of concurrent requests over the one stream, and reconnects on the next call
// after the transport dies (requests in flight then fail with GUEST_UNREACHABLE).
import type { Duplex } from "node:stream";
import { AgentisoError } from "../core/errors.js";
import { silentLogger, type Logger } from "../core/logger.js";
import { withDeadline } from "../core/deadline.js";
import {
  CHUNK_BYTES, FlowWindow, PROTOCOL_VERSION, STREAM_WINDOW_BYTES,
  type AgentMessage, type DirEntry, type FileStat, type HelloReply, type JobInfo,
} from "../protocol/index.js";
import type { CallOptions, Command, ConnectionHandler, ExecOptions, ExecResult, ExecStream, GuestPortForward, OutputChunk, ReadResult } from "./client-types.js";
import { GuestConnection } from "./guest-connection.js";
import { listenGuestPort } from "./port-forward.js";
import { RequestStream, type RequestBody } from "./request-stream.js";
import { createTunnelSocket } from "./tunnel-socket.js";
import { guestUnreachable, abortedError } from "./wire-errors.js";

export interface GuestClientOptions {
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

export interface ConfigureSettings {
  hostname?: string;
  /** The guest's new wall clock, ms since the epoch (e.g. Date.now() right after a restore). */
  clockEpochMs?: number;
  /** At most MAX_ENTROPY_BYTES random bytes mixed into the guest kernel's pool. */
  entropy?: Uint8Array;
}

const HELLO_RETRY_PAUSE_MS = 100;

type Reply<T extends AgentMessage["type"]> = Extract<AgentMessage, { type: T }>;

/** One per workspace; safe to share between concurrent callers. */
export class GuestClient implements AsyncDisposable {
  private current: GuestConnection | undefined;
  private connecting: Promise<GuestConnection> | undefined;
  private closed = false;
  private hello: HelloReply | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: GuestClientOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** What the agent said in its hello (after the first successful call). */
  get agentInfo(): HelloReply | undefined {
    return this.hello;
  }

  // Connects (or reuses the live connection) and completes the hello handshake.
  async connect(options: CallOptions = {}): Promise<HelloReply> {
    await this.connection(options.signal);
    return this.hello!;
  }

  async ping(options: CallOptions = {}): Promise<void> {
    await this.request({ type: "ping" }, "pong", "ping", options);
  }

  // Runs a command to completion; a non-zero exit is a result, not an error.
  async exec(command: ExecOptions, options: CallOptions = {}): Promise<ExecResult> {
    const { id: _id, type: _type, stdout, stderr, ...result } = await this.request(execBody(command, false), "exec_result", "exec", options, execDeadline(command));
    return { ...result, stdout: stdout ?? "", stderr: stderr ?? "" };
  }

  // Runs a command and streams its output chunks as they come (bounded by flow control);
  // breaking out of the iteration cancels the command.
  execStream(command: ExecOptions, options: CallOptions = {}): ExecStream {
    const started = this.start(execBody(command, true), "exec", options, execDeadline(command));
    const result = started.then(async (stream) => {
      const { id: _id, type: _type, stdout: _stdout, stderr: _stderr, ...rest } = expect(await stream.result, "exec_result");
      return rest;
    });
    result.catch(() => {});
    // a consumer that stops early (a capped reader past its cap) cancels the command in the guest
    async function* chunks(): AsyncGenerator<OutputChunk> {
      const stream = await started;
      try {
        for await (const event of stream.events()) {
          if (event.type === "data") yield { fd: event.fd ?? 1, data: Buffer.from(event.data, "base64") };
        }
      } finally {
        stream.abort();
      }
    }
    return { result, [Symbol.asyncIterator]: chunks };
  }

  async startJob(command: Command & { maxOutputBytes?: number }, options: CallOptions = {}): Promise<JobInfo> {
    return (await this.request({ type: "job_start", ...command }, "job", "job_start", options)).job;
  }

  /** The job's state and the tail of its output. */
  async pollJob(jobId: string, options: CallOptions = {}): Promise<JobInfo> {
    return (await this.request({ type: "job_poll", jobId }, "job", "job_poll", options)).job;
  }

  async killJob(jobId: string, signal: NodeJS.Signals = "SIGTERM", options: CallOptions = {}): Promise<JobInfo> {
    return (await this.request({ type: "job_kill", jobId, signal: signal as "SIGTERM" }, "job", "job_kill", options)).job;
  }

  async listJobs(options: CallOptions = {}): Promise<JobInfo[]> {
    return (await this.request({ type: "job_list" }, "jobs", "job_list", options)).jobs;
  }

  async readFile(path: string, range: { offset?: number; limit?: number } = {}, options: CallOptions = {}): Promise<ReadResult> {
    const reply = await this.request({ type: "file_read", path, ...range }, "file_content", `read ${path}`, options);
    return { data: Buffer.from(reply.data, "base64"), sizeBytes: reply.sizeBytes, eof: reply.eof };
  }

  async writeFile(path: string, data: string | Buffer, how: { mode?: number; append?: boolean; createDirs?: boolean } = {}, options: CallOptions = {}): Promise<number> {
    const body = { type: "file_write" as const, path, data: Buffer.from(data).toString("base64"), ...how };
    return (await this.request(body, "done", `write ${path}`, options)).bytes ?? 0;
  }

  /** Replaces oldText (which must occur exactly once: NOT_FOUND / CONFLICT otherwise). */
  async editFile(path: string, oldText: string, newText: string, options: CallOptions = {}): Promise<void> {
    await this.request({ type: "file_edit", path, oldText, newText }, "done", `edit ${path}`, options);
  }

  async listDir(path: string, options: CallOptions = {}): Promise<DirEntry[]> {
    return (await this.request({ type: "file_list", path }, "file_entries", `list ${path}`, options)).entries;
  }

  async stat(path: string, options: CallOptions = {}): Promise<FileStat> {
    return (await this.request({ type: "file_stat", path }, "stat", `stat ${path}`, options)).stat;
  }

  async mkdir(path: string, how: { mode?: number; recursive?: boolean } = {}, options: CallOptions = {}): Promise<void> {
    await this.request({ type: "file_mkdir", path, ...how }, "done", `mkdir ${path}`, options);
  }

  async remove(path: string, how: { recursive?: boolean } = {}, options: CallOptions = {}): Promise<void> {
    await this.request({ type: "file_remove", path, ...how }, "done", `remove ${path}`, options);
  }

  // Streams bytes into a guest file (visible only once complete); returns bytes written.
  async upload(path: string, source: Buffer | AsyncIterable<Buffer | string>, how: { mode?: number; maxBytes?: number } = {}, options: CallOptions = {}): Promise<number> {
    const stream = await this.start({ type: "file_upload", path, ...how }, `upload ${path}`, options, undefined);
    const window = new FlowWindow(STREAM_WINDOW_BYTES);
    void stream.result.finally(() => window.release()).catch(() => {});
    void (async () => {
      for await (const event of stream.events()) if (event.type === "ack") window.acked(event.bytes);
    })().catch(() => {});
    for await (const chunk of chunksOf(source)) {
      await window.room();
      if (stream.isFinished) break; // the agent refused (e.g. TOO_LARGE): stop reading the source
      stream.sendData(chunk);
      window.sent(chunk.length);
    }
    stream.send({ type: "end" });
    return expect(await stream.result, "done").bytes ?? 0;
  }

  // Streams a guest file (or a byte range of it) in chunks; breaking out cancels it.
  async *download(path: string, range: { offset?: number; limit?: number } = {}, options: CallOptions = {}): AsyncGenerator<Buffer> {
    const stream = await this.start({ type: "file_download", path, ...range }, `download ${path}`, options, undefined);
    try {
      for await (const event of stream.events()) if (event.type === "data") yield Buffer.from(event.data, "base64");
      await stream.result;
    } finally {
      stream.abort();
    }
  }

  /** Environment for later commands, held in the agent's memory only (API keys). */
  async setEnv(vars: Record<string, string>, options: CallOptions = {}): Promise<void> {
    await this.request({ type: "set_env", vars }, "done", "set_env", options);
  }

  async unsetEnv(names: string[], options: CallOptions = {}): Promise<void> {
    await this.request({ type: "unset_env", names }, "done", "unset_env", options);
  }

  // Workspace settings; after a memory-snapshot restore pass clockEpochMs and fresh entropy.
  async configure(settings: ConfigureSettings, options: CallOptions = {}): Promise<void> {
    const { entropy, ...rest } = settings;
    const message = { type: "configure" as const, ...rest, ...(entropy === undefined ? {} : { entropy: Buffer.from(entropy).toString("base64") }) };
    await this.request(message, "done", "configure", options);
  }

  // A TCP connection to host:port inside the guest, as a Duplex (host → guest tunnel).
  async openTunnel(port: number, how: { host?: string } = {}, options: CallOptions = {}): Promise<Duplex> {
    const connection = await this.connection(options.signal);
    const id = connection.nextId();
    const socket = createTunnelSocket(connection, id);
    connection.send({ id, type: "tunnel_open", port, ...how });
    const signal = withDeadline(options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000, options.signal);
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => (socket.destroy(), reject(abortedError(signal, `tunnel to guest port ${port}`)));
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("tunnel_ready", () => (signal.removeEventListener("abort", onAbort), resolve()));
      socket.once("error", (err) => (signal.removeEventListener("abort", onAbort), reject(err)));
    });
    return socket;
  }

  // Listens on 127.0.0.1:guestPort in the guest; each connection there reaches onConnection.
  async forwardGuestPort(guestPort: number, onConnection: ConnectionHandler, options: CallOptions = {}): Promise<GuestPortForward> {
    const connection = await this.connection(options.signal);
    return listenGuestPort(connection, guestPort, onConnection, withDeadline(options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000, options.signal));
  }

  /** Asks the agent to exit (ending the workspace when it is PID 1). */
  async shutdown(options: CallOptions = {}): Promise<void> {
    await this.request({ type: "shutdown" }, "done", "shutdown", options);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.current?.close();
    await this.current?.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async request<T extends AgentMessage["type"]>(body: RequestBody, type: T, what: string, options: CallOptions, defaultMs?: number | null): Promise<Reply<T>> {
    const stream = await this.start(body, what, options, defaultMs === undefined ? this.options.requestTimeoutMs ?? 30_000 : defaultMs);
    return expect(await stream.result, type);
  }

  private async start(body: RequestBody, what: string, options: CallOptions, defaultMs: number | null | undefined): Promise<RequestStream> {
    const timeoutMs = options.timeoutMs ?? defaultMs ?? undefined;
    // a fresh never-aborting signal per call: a shared one would collect a listener per request
    const signal = timeoutMs === undefined ? (options.signal ?? new AbortController().signal) : withDeadline(timeoutMs, options.signal);
    const connection = await this.connection(signal);
    return new RequestStream(connection, body, what, signal);
  }

  private async connection(signal?: AbortSignal): Promise<GuestConnection> {
    if (this.closed) throw new AgentisoError("INVALID_STATE", "the guest client is closed");
    if (this.current?.isOpen) return this.current;
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    if (!signal) return this.connecting;
    signal.throwIfAborted();
    return Promise.race([this.connecting, new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(abortedError(signal, "connect")), { once: true }))]);
  }

  private async open(): Promise<GuestConnection> {
    const deadline = Date.now() + (this.options.connectTimeoutMs ?? 10_000);
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
      this.hello = expect(await hello.result, "hello");
    } catch (err) {
      connection.close();
      throw err instanceof AgentisoError && err.code === "TIMEOUT" ? guestUnreachable("no hello from the agent", err) : err;
    }
    this.current = connection;
    return connection;
  }
}

const CONNECT_MARGIN_MS = 10_000;

function expect<T extends AgentMessage["type"]>(message: AgentMessage, type: T): Reply<T> {
  if (message.type !== type) throw new AgentisoError("INTERNAL", `agent answered ${message.type}, expected ${type}`);
  return message as Reply<T>;
}

function execBody(command: ExecOptions, stream: boolean): RequestBody {
  const { stdin, commandTimeoutMs, ...rest } = command;
  return {
    type: "exec", ...rest, stream,
    ...(stdin === undefined ? {} : { stdin: Buffer.from(stdin).toString("base64") }),
    ...(commandTimeoutMs === undefined ? {} : { timeoutMs: commandTimeoutMs }),
  };
}

// Exec has no client deadline of its own unless the command has one (then: that + a margin).
function execDeadline(command: ExecOptions): number | null {
  return command.commandTimeoutMs === undefined ? null : command.commandTimeoutMs + CONNECT_MARGIN_MS;
}

async function* chunksOf(source: Buffer | AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  const pieces = Buffer.isBuffer(source) ? [source] : source;
  for await (const piece of pieces) {
    const buffer = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
    for (let at = 0; at < buffer.length; at += CHUNK_BYTES) yield buffer.subarray(at, at + CHUNK_BYTES);
  }
}
