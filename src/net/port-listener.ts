// A host TCP listener whose every connection is spliced to a stream opened on demand (a tunnel
// to a workspace's port): the host end of `ws port`. It counts bytes both ways and open
// connections, caps connections at once, and answers a connection whose far end cannot be
// opened with a reset (a refused port fails fast instead of hanging).
import { createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { AgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";

export interface PortListenerOptions {
  /** Host address to listen on (an IP literal). */
  host: string;
  /** Host port; 0 lets the kernel pick a free one. */
  port: number;
  /** Connections open at once; past it new ones are closed at accept. */
  maxConnections: number;
  /** Opens the far end of one accepted connection; rejecting resets the connection. */
  openFarEnd(signal: AbortSignal): Promise<Duplex>;
  /** Bytes that went to (in) or came from (out) the far end, as they pass. */
  onBytes?(direction: "toFar" | "fromFar", bytes: number): void;
  /** How long the far end may take to open. */
  openTimeoutMs?: number;
  logger: Logger;
}

export interface PortListenerStats {
  openConnections: number;
  bytesToFar: number;
  bytesFromFar: number;
}

const DEFAULT_OPEN_TIMEOUT_MS = 15_000;

export class PortListener implements AsyncDisposable {
  private readonly sockets = new Set<Socket>();
  private readonly closing = new AbortController();
  private bytesToFar = 0;
  private bytesFromFar = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: PortListenerOptions,
    /** The port actually listened on (the kernel's choice for port 0). */
    readonly port: number,
  ) {}

  // Listens; a port in use is CONFLICT, an address this host does not have is INVALID_INPUT.
  static async open(options: PortListenerOptions): Promise<PortListener> {
    const ref: { listener?: PortListener } = {};
    // allowHalfOpen: a client that shuts down its sending side still gets the whole answer
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => ref.listener?.accept(socket));
    server.maxConnections = options.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err) => reject(listenError(err as NodeJS.ErrnoException, options)));
      server.listen({ host: options.host, port: options.port, exclusive: true }, () => resolve());
    });
    server.on("error", (err) => options.logger.warn("port listener error", { err }));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : options.port;
    return (ref.listener = new PortListener(server, options, port));
  }

  stats(): PortListenerStats {
    return { openConnections: this.sockets.size, bytesToFar: this.bytesToFar, bytesFromFar: this.bytesFromFar };
  }

  // Stops listening and ends every open connection.
  async close(): Promise<void> {
    this.closing.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.once("close", () => this.sockets.delete(client));
    client.on("error", () => {}); // a client that resets is the end of its connection, nothing more
    const signal = AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS)]);
    this.options.openFarEnd(signal).then(
      (far) => this.splice(client, far),
      (err: unknown) => {
        this.options.logger.debug("port forward: far end not opened", { err });
        client.resetAndDestroy();
      },
    );
  }

  // Pipes both ways until either side closes; half-closes pass through.
  private splice(client: Socket, far: Duplex): void {
    if (client.destroyed) return void far.destroy();
    const end = () => {
      client.destroy();
      far.destroy();
    };
    far.on("error", () => client.resetAndDestroy());
    client.once("close", end);
    far.once("close", end);
    client.on("data", (chunk: Buffer) => this.count("toFar", chunk.length));
    far.on("data", (chunk: Buffer) => this.count("fromFar", chunk.length));
    client.pipe(far);
    far.pipe(client);
    client.resume();
  }

  private count(direction: "toFar" | "fromFar", bytes: number): void {
    if (direction === "toFar") this.bytesToFar += bytes;
    else this.bytesFromFar += bytes;
    this.options.onBytes?.(direction, bytes);
  }
}

function listenError(err: NodeJS.ErrnoException, options: PortListenerOptions): Error {
  const where = `${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`;
  if (err.code === "EADDRINUSE") return new AgentisoError("CONFLICT", `host port ${where} is in use: choose another host port, or omit it for a free one`, { cause: err });
  if (err.code === "EADDRNOTAVAIL") return new AgentisoError("INVALID_INPUT", `this host has no address ${options.host} to listen on: use 127.0.0.1 or one of the host's addresses`, { cause: err });
  if (err.code === "EACCES") return new AgentisoError("PERMISSION_DENIED", `listening on ${where} is not permitted`, { cause: err });
  return new AgentisoError("BACKEND_FAILED", `could not listen on ${where}: ${err.message}`, { cause: err });
}
