// The QEMU Machine Protocol over a unix socket: commands matched to replies by id, events
// fanned out to listeners. QEMU exiting (or `quit`) closes the socket; every call still
// waiting then fails with GUEST_UNREACHABLE, except `quit`, whose goal that is.
import { connect, type Socket } from "node:net";
import { AgentisoError } from "../../core/errors.js";
import { delay, withDeadline } from "../../core/deadline.js";
import { silentLogger, type Logger } from "../../core/logger.js";
import { QmpLineReader } from "./qmp-lines.js";

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export interface QmpCallOptions {
  signal?: AbortSignal;
  /** Default 30 s. */
  timeoutMs?: number;
}

export interface QmpConnectOptions extends QmpCallOptions {
  logger?: Logger;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: AgentisoError) => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const CONNECT_RETRY_MS = 10;

export class QmpClient implements AsyncDisposable {
  readonly closed: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: QmpEvent) => void>();
  private readonly reader = new QmpLineReader();
  private greeting: ((line: Record<string, unknown>) => void) | undefined;
  private nextId = 1;
  private isClosed = false;

  /** True once the socket closed (QEMU exited or quit). */
  get hasClosed(): boolean {
    return this.isClosed;
  }

  private constructor(
    private readonly socket: Socket,
    private readonly log: Logger,
  ) {
    this.closed = new Promise((resolve) => socket.once("close", () => resolve(this.onClose())));
    socket.on("error", (err) => this.log.debug("qmp socket error", { error: err }));
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  // Connects (retrying while QEMU has not created the socket yet), reads the greeting and
  // leaves capabilities-negotiation mode, so `execute` works at once.
  static async connect(socketPath: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const signal = withDeadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal);
    const socket = await connectWithRetry(socketPath, signal);
    const client = new QmpClient(socket, options.logger ?? silentLogger);
    try {
      await client.readGreeting(signal);
      await client.execute("qmp_capabilities", undefined, { signal });
      return client;
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  // Runs one QMP command; QMP `error` replies reject with BACKEND_FAILED naming class and desc.
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options: QmpCallOptions = {}): Promise<T> {
    if (this.isClosed) return Promise.reject(socketClosed(command));
    const signal = withDeadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        reject(abortError(signal, `QMP ${command}`));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      const settle = () => (this.pending.delete(id), signal.removeEventListener("abort", onAbort));
      this.pending.set(id, {
        command,
        resolve: (value) => (settle(), resolve(value as T)),
        reject: (error) => (settle(), reject(error)),
      });
      this.socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + "\n");
    });
  }

  // Resolves with the first event named `name` (and matching predicate) arriving after the call.
  waitForEvent(name: string, options: QmpCallOptions & { predicate?: (e: QmpEvent) => boolean } = {}): Promise<QmpEvent> {
    if (this.isClosed) return Promise.reject(socketClosed(`waiting for ${name}`));
    const signal = withDeadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal);
    return new Promise((resolve, reject) => {
      const finish = (settle: () => void) => {
        unsubscribe();
        signal.removeEventListener("abort", onAbort);
        settle();
      };
      const onAbort = () => finish(() => reject(abortError(signal, `waiting for QMP event ${name}`)));
      const unsubscribe = this.onEvent((e) => {
        if (e.event === name && (options.predicate?.(e) ?? true)) finish(() => resolve(e));
      });
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      void this.closed.then(() => finish(() => reject(socketClosed(`waiting for ${name}`))));
    });
  }

  // Calls listener for every event until the returned function is called.
  onEvent(listener: (e: QmpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  // Closes the socket (QEMU keeps running) and resolves once it is closed.
  async close(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private readGreeting(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortError(signal, "QMP greeting"));
      signal.addEventListener("abort", onAbort, { once: true });
      void this.closed.then(() => reject(socketClosed("QMP greeting")));
      this.greeting = (line) => {
        signal.removeEventListener("abort", onAbort);
        if ("QMP" in line) resolve();
        else reject(new AgentisoError("BACKEND_FAILED", "QMP socket did not greet with a QMP banner: is it a QEMU monitor?"));
      };
    });
  }

  private onData(chunk: Buffer): void {
    let lines: string[];
    try {
      lines = this.reader.push(chunk);
    } catch (err) {
      this.log.warn("qmp line too long, closing", { error: err });
      this.socket.destroy();
      return;
    }
    for (const line of lines) if (line.trim()) this.onLine(line);
  }

  private onLine(line: string): void {
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      message = parsed as Record<string, unknown>;
    } catch {
      this.log.warn("qmp sent a line that is not a JSON object, ignored", { line: line.slice(0, 200) });
      return;
    }
    if (this.greeting) {
      const greeting = this.greeting;
      this.greeting = undefined;
      return greeting(message);
    }
    if (typeof message.event === "string") return this.emit(message as unknown as QmpEvent);
    this.onReply(message);
  }

  private onReply(message: Record<string, unknown>): void {
    const pending = typeof message.id === "number" ? this.pending.get(message.id) : undefined;
    if (!pending) {
      this.log.warn("qmp reply matches no request, ignored", { id: message.id });
      return;
    }
    if ("return" in message) return pending.resolve(message.return);
    pending.reject(qmpError(pending.command, message.error));
  }

  private emit(event: QmpEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.log.warn("qmp event listener threw", { event: event.event, error: err });
      }
    }
  }

  private onClose(): void {
    this.isClosed = true;
    for (const pending of [...this.pending.values()]) {
      if (pending.command === "quit") pending.resolve(undefined);
      else pending.reject(socketClosed(pending.command));
    }
    this.listeners.clear();
  }
}

function qmpError(command: string, error: unknown): AgentisoError {
  const { class: errorClass, desc } = (error ?? {}) as { class?: unknown; desc?: unknown };
  return new AgentisoError("BACKEND_FAILED", `QMP ${command} failed: ${String(errorClass ?? "Error")}: ${String(desc ?? "no description")}`, {
    details: { qmpClass: errorClass, qmpDesc: desc, command },
  });
}

function socketClosed(what: string): AgentisoError {
  return new AgentisoError("GUEST_UNREACHABLE", `QEMU's QMP socket closed (QEMU exited?) during ${what}`);
}

function abortError(signal: AbortSignal, what: string): AgentisoError {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new AgentisoError("TIMEOUT", `${what} did not finish before its deadline`, { cause: reason });
  }
  return new AgentisoError("CANCELLED", `${what} was cancelled`, { cause: reason });
}

async function connectWithRetry(path: string, signal: AbortSignal): Promise<Socket> {
  while (true) {
    try {
      return await connectOnce(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ECONNREFUSED") {
        throw new AgentisoError("BACKEND_FAILED", `cannot connect to QMP socket ${path}: ${(err as Error).message}`, { cause: err });
      }
    }
    try {
      await delay(CONNECT_RETRY_MS, signal);
    } catch {
      throw abortError(signal, `connecting to QMP socket ${path} (is QEMU running?)`);
    }
  }
}

function connectOnce(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => (socket.off("error", reject), resolve(socket)));
    socket.once("error", reject);
  });
}
