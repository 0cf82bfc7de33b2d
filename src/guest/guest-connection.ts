// One live transport to the agent: frames out, frames in, and routing of every incoming
// message to the receiver registered for its id (tunnel_accept goes to its listenId).
// When the transport closes, every receiver fails with GUEST_UNREACHABLE.
import type { Duplex } from "node:stream";
import type { Logger } from "../core/logger.js";
import type { AgentisoError } from "../core/errors.js";
import { clipText } from "../core/capped-bytes.js";
import { AgentMessageSchema, encodeDataFrame, encodeFrame, FrameDecoder, parsePayload, type AgentMessage, type ClientMessage } from "../protocol/index.js";
import { guestUnreachable } from "./wire-errors.js";

export interface Receiver {
  onMessage(message: AgentMessage): void;
  onClose(error: AgentisoError): void;
}

const MAX_WARNINGS = 20;

/** A single transport; GuestClient replaces it after it dies. */
export class GuestConnection {
  private readonly decoder = new FrameDecoder();
  private readonly receivers = new Map<number, Receiver>();
  private lastId = 0;
  /** Warnings about the agent's own misbehaviour logged on this connection (a flood is logged once). */
  private warnings = 0;
  private closeError: AgentisoError | undefined;
  readonly closed: Promise<void>;

  constructor(
    private readonly transport: Duplex,
    private readonly logger: Logger,
  ) {
    this.closed = new Promise((resolve) => transport.once("close", () => resolve()));
    transport.on("data", (chunk: Buffer) => this.receive(chunk));
    transport.on("error", (err) => this.fail(guestUnreachable(err.message, err)));
    transport.on("end", () => this.fail(guestUnreachable("the agent closed the connection")));
    transport.on("close", () => this.fail(guestUnreachable("the connection closed")));
  }

  get isOpen(): boolean {
    return this.closeError === undefined;
  }

  /** A fresh request id; ids are never reused on a connection. */
  nextId(): number {
    return ++this.lastId;
  }

  // Routes messages for id to receiver until unregister; fails at once when closed.
  register(id: number, receiver: Receiver): void {
    if (this.closeError) return receiver.onClose(this.closeError);
    this.receivers.set(id, receiver);
  }

  unregister(id: number): void {
    this.receivers.delete(id);
  }

  // Frames and writes a message; quietly dropped once the transport is gone.
  send(message: ClientMessage): void {
    if (this.closeError) return;
    this.transport.write(encodeFrame(message));
  }

  /** Sends bytes as a data message on stream id (no JSON scan of the base64). */
  sendData(id: number, bytes: Buffer): void {
    if (!this.closeError) this.transport.write(encodeDataFrame(id, bytes));
  }

  close(): void {
    this.fail(guestUnreachable("the client closed the connection"));
  }

  private receive(chunk: Buffer): void {
    for (const payload of this.decoder.push(chunk)) {
      const parsed = AgentMessageSchema.safeParse(safeJson(payload));
      if (!parsed.success) {
        this.warn("agent sent an invalid message", { issue: clipText(parsed.error.issues[0]?.message ?? "", 200) });
        continue;
      }
      this.route(parsed.data);
    }
    if (this.decoder.error) this.fail(guestUnreachable(`bad frame from agent: ${this.decoder.error.message}`));
  }

  private route(message: AgentMessage): void {
    const target = message.type === "tunnel_accept" ? message.listenId : message.id;
    const receiver = this.receivers.get(target);
    if (receiver) return receiver.onMessage(message);
    if (message.type === "error") this.warn("agent error for no request", { id: message.id, code: message.code, message: clipText(message.message, 200) });
  }

  // What the agent sends is the workspace's choice: at most MAX_WARNINGS lines per connection reach the daemon's log.
  private warn(msg: string, fields: Record<string, unknown>): void {
    this.warnings += 1;
    if (this.warnings <= MAX_WARNINGS) this.logger.warn(msg, fields);
    if (this.warnings === MAX_WARNINGS) this.logger.warn("agent keeps misbehaving: further warnings on this connection are not logged", {});
  }

  private fail(error: AgentisoError): void {
    if (this.closeError) return;
    this.closeError = error;
    const receivers = [...this.receivers.values()];
    this.receivers.clear();
    for (const receiver of receivers) receiver.onClose(error);
    this.transport.destroy();
  }
}

function safeJson(payload: Buffer): unknown {
  try {
    return parsePayload(payload);
  } catch {
    return undefined;
  }
}
