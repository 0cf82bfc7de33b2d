// One client connection: decodes frames, validates messages, runs requests concurrently,
// routes stream messages by id, and on close aborts everything the connection started
// (execs' process groups, tunnels, transfers). Bad input earns an error, never a crash.
import type { Duplex } from "node:stream";
import {
  ClientMessageSchema, CONNECTION_ERROR_ID, encodeDataFrame, encodeFrame, FrameDecoder, parsePayload, PROTOCOL_VERSION,
  REQUEST_TYPES, STREAM_WINDOW_BYTES, type AgentMessage, type ClientMessage, type ClientRequest, type HelloRequest, type WireErrorCode,
} from "../protocol/index.js";
import type { AgentLog } from "./agent-log.js";
import { runHandler } from "./handlers.js";
import type { AgentServices, RequestContext, StreamHandlers } from "./request-context.js";
import { toWireError } from "./wire-error.js";

interface Operation {
  controller: AbortController;
  stream?: StreamHandlers;
  /** Stream messages that came before the handler routed its stream (at most one window). */
  early?: StreamMessage[];
  earlyBytes?: number;
}

const CLOSE_FLUSH_MS = 2_000;

/** Serves one transport; created by GuestAgent.serve. */
export class AgentConnection {
  private readonly decoder = new FrameDecoder();
  private readonly ops = new Map<number, Operation>();
  private greeted = false;
  private closed = false;
  private nextStreamId = -1;
  readonly done: Promise<void>;

  constructor(
    private readonly transport: Duplex,
    private readonly agent: AgentServices,
    private readonly log: AgentLog,
  ) {
    this.done = new Promise((resolve) => transport.once("close", resolve));
    transport.on("data", (chunk: Buffer) => this.receive(chunk));
    transport.on("end", () => this.close(this.decoder.pendingBytes > 0 ? "frame cut short" : undefined));
    transport.on("error", (err) => this.log.info("connection error", { error: err.message }));
    transport.on("close", () => this.close());
  }

  // Frames and writes one message; a reply too big for a frame becomes a TOO_LARGE error.
  send(message: AgentMessage): void {
    if (this.closed) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(message);
    } catch (err) {
      frame = encodeFrame({ id: message.id, type: "error", code: "TOO_LARGE", message: (err as Error).message });
    }
    this.transport.write(frame);
  }

  /** Sends bytes as a data message on stream id (the fast encoder: no JSON scan of base64). */
  sendData(id: number, bytes: Buffer, fd?: 1 | 2): void {
    if (!this.closed) this.transport.write(encodeDataFrame(id, bytes, fd));
  }

  /**
   * Aborts every operation of this connection and closes the transport once the frames already
   * written have left (a shutdown's reply on a virtio port is still in a thread-pool write when
   * the agent decides to exit). A host that stopped reading holds it at most CLOSE_FLUSH_MS.
   */
  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.log.info("closing connection", { reason });
    for (const op of this.ops.values()) op.controller.abort();
    this.ops.clear();
    if (this.transport.destroyed) return;
    const destroy = () => {
      clearTimeout(deadline);
      this.transport.destroy();
    };
    const deadline = setTimeout(destroy, CLOSE_FLUSH_MS).unref();
    this.transport.once("finish", destroy);
    this.transport.end();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    for (const payload of this.decoder.push(chunk)) this.handleFrame(payload);
    if (this.decoder.error && !this.closed) {
      // The next frame boundary is unknown: answer once, then close this connection only.
      this.sendError(CONNECTION_ERROR_ID, "FRAME_ERROR", this.decoder.error.message);
      this.close("frame error");
    }
  }

  private handleFrame(payload: Buffer): void {
    let raw: unknown;
    try {
      raw = parsePayload(payload);
    } catch {
      return this.sendError(CONNECTION_ERROR_ID, "INVALID_REQUEST", "frame is not valid UTF-8 JSON");
    }
    const id = (raw as { id?: unknown } | null)?.id;
    if (typeof raw !== "object" || raw === null || typeof id !== "number" || !Number.isSafeInteger(id)) {
      return this.sendError(CONNECTION_ERROR_ID, "INVALID_REQUEST", "message must be a JSON object with an integer `id`");
    }
    const type = (raw as { type?: unknown }).type;
    if (typeof type !== "string" || !(REQUEST_TYPES.has(type) || STREAM_TYPES.has(type))) {
      return this.sendError(id, "UNKNOWN_TYPE", `unknown message type ${JSON.stringify(type)}`);
    }
    const parsed = ClientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
      return this.sendError(id, "INVALID_REQUEST", `invalid ${type}${where}: ${issue?.message ?? "bad message"}`);
    }
    this.dispatch(parsed.data);
  }

  private dispatch(message: ClientMessage): void {
    switch (message.type) {
      case "data":
      case "end":
      case "ack":
      case "pty_resize":
        return this.routeStream(message);
      case "cancel":
        return this.ops.get(message.id)?.controller.abort();
      case "hello":
        return this.hello(message);
      default:
        return this.startRequest(message);
    }
  }

  private routeStream(message: StreamMessage): void {
    const op = this.ops.get(message.id);
    if (!op) return; // the stream finished already: late acks and data are dropped
    if (!op.stream) return this.holdEarly(op, message);
    if (message.type === "data") op.stream.onData?.(Buffer.from(message.data, "base64"));
    else if (message.type === "end") op.stream.onEnd?.();
    else if (message.type === "ack") op.stream.onAck?.(message.bytes);
    else op.stream.onResize?.(message.rows, message.cols);
  }

  // Keeps stream messages until the handler routes its stream; a client that ignores flow
  // control (or streams into a request that takes none) cannot grow this past one window;
  // each message counts for its object too, so a flood of empty ones (acks, resizes) is bounded.
  private holdEarly(op: Operation, message: StreamMessage): void {
    const size = EARLY_MESSAGE_COST_BYTES + (message.type === "data" ? message.data.length : 0);
    if ((op.earlyBytes ?? 0) + size > STREAM_WINDOW_BYTES * 2) return;
    op.earlyBytes = (op.earlyBytes ?? 0) + size;
    (op.early ??= []).push(message);
  }

  private hello(message: HelloRequest): void {
    if (message.version !== PROTOCOL_VERSION) {
      this.sendError(message.id, "VERSION_MISMATCH", `agent speaks protocol version ${PROTOCOL_VERSION}, client sent ${message.version}`);
      return this.close("version mismatch");
    }
    this.greeted = true;
    this.send({ id: message.id, type: "hello", version: PROTOCOL_VERSION, agent: "agentiso-guest", pid: process.pid, node: process.version });
  }

  private startRequest(request: Exclude<ClientRequest, HelloRequest>): void {
    if (!this.greeted) return this.sendError(request.id, "INVALID_REQUEST", "send hello first");
    if (this.ops.has(request.id)) {
      return this.sendError(request.id, "DUPLICATE_ID", `id ${request.id} belongs to an unfinished request`);
    }
    const op: Operation = { controller: new AbortController() };
    this.ops.set(request.id, op);
    void this.run(request, this.contextFor(request.id, op), op);
  }

  private async run(request: Exclude<ClientRequest, HelloRequest>, ctx: RequestContext, op: Operation): Promise<void> {
    let reply: AgentMessage;
    try {
      reply = (await runHandler(request.type, request, ctx)) ?? { id: request.id, type: "done" };
      // a cancelled request always ends in CANCELLED, even when the handler wound up normally
      if (op.controller.signal.aborted) throw abortError();
    } catch (err) {
      const wire = toWireError(op.controller.signal.aborted ? abortError() : err);
      reply = { id: request.id, type: "error", code: wire.code, message: wire.message };
    }
    if (this.ops.get(request.id) === op) this.ops.delete(request.id);
    this.send(reply);
  }

  private contextFor(id: number, op: Operation): RequestContext {
    return {
      id,
      signal: op.controller.signal,
      agent: this.agent,
      log: this.log,
      send: (message) => this.send(message),
      sendData: (streamId, bytes, fd) => this.sendData(streamId, bytes, fd),
      onStream: (handlers) => {
        op.stream = handlers;
        for (const message of op.early?.splice(0) ?? []) this.routeStream(message);
      },
      openStream: (cancel) => {
        const stream: Operation = { controller: new AbortController() };
        stream.controller.signal.addEventListener("abort", cancel, { once: true });
        const streamId = this.nextStreamId--;
        this.ops.set(streamId, stream);
        return {
          id: streamId,
          route: (handlers) => {
            stream.stream = handlers;
            for (const message of stream.early?.splice(0) ?? []) this.routeStream(message);
          },
        };
      },
      closeStream: (streamId) => {
        this.ops.delete(streamId);
      },
    };
  }

  private sendError(id: number, code: WireErrorCode, message: string): void {
    this.send({ id, type: "error", code, message });
  }
}

const STREAM_TYPES: ReadonlySet<string> = new Set(["data", "end", "ack", "cancel", "pty_resize"]);

const EARLY_MESSAGE_COST_BYTES = 256;

/** Messages routed to a request's stream handlers by id. */
type StreamMessage = Extract<ClientMessage, { type: "data" | "end" | "ack" | "pty_resize" }>;

function abortError(): Error {
  const err = new Error("request cancelled");
  err.name = "AbortError";
  return err;
}
