// The life of one request on a connection: non-final messages (data chunks, tunnel events)
// as an async iterable with acks sent as the consumer takes each chunk (flow control), the
// final reply as a promise typed by REQUEST_REPLIES (any other final type fails the request
// with INTERNAL), and cancel-on-abort (the agent then stops the work).
import { AgentisoError } from "../core/errors.js";
import { tooLarge } from "../core/capped-bytes.js";
import {
  FINAL_TYPES, isReplyTo, replyTypeOf, STREAM_WINDOW_BYTES,
  type AgentMessage, type ClientRequest, type ReplyTo, type RequestOf, type RequestType,
} from "../protocol/index.js";
import type { GuestConnection, Receiver } from "./guest-connection.js";
import { abortedError, fromWireError } from "./wire-errors.js";

/**
 * What the events not yet taken may cost: an honest agent sends at most STREAM_WINDOW_BYTES of
 * data before acks; one that ignores the window (or floods small messages) fails the request
 * with TOO_LARGE instead of growing the daemon's memory. Each message counts its data plus
 * MESSAGE_COST_BYTES for the object that carries it.
 */
export const MAX_QUEUED_BYTES = 2 * STREAM_WINDOW_BYTES;
const MESSAGE_COST_BYTES = 256;

/** A request as callers write it: the stream gives it its id. */
export type RequestBody<T extends RequestType = RequestType> = T extends RequestType ? Omit<RequestOf<T>, "id"> : never;

/** Receiver for one request id: queue of events, the final reply, cancel. */
export class RequestStream<T extends RequestType = RequestType> implements Receiver {
  readonly id: number;
  /** The reply REQUEST_REPLIES pairs with T; rejects with a typed AgentisoError. */
  readonly result: Promise<ReplyTo<T>>;
  private readonly type: T;
  private settleResult!: { resolve: (m: ReplyTo<T>) => void; reject: (e: AgentisoError) => void };
  private readonly queue: AgentMessage[] = [];
  private queuedBytes = 0;
  private wake: (() => void) | undefined;
  private finished = false;
  private failure: AgentisoError | undefined;
  private readonly onAbort = () => this.abort();

  constructor(
    private readonly connection: GuestConnection,
    body: RequestBody<T> & { type: T },
    private readonly what: string,
    private readonly signal: AbortSignal,
  ) {
    this.id = connection.nextId();
    this.type = body.type;
    this.result = new Promise((resolve, reject) => (this.settleResult = { resolve, reject }));
    this.result.catch(() => {}); // callers that only iterate see the failure there
    connection.register(this.id, this);
    if (signal.aborted) {
      this.abort();
      return;
    }
    signal.addEventListener("abort", this.onAbort, { once: true });
    connection.send({ ...body, id: this.id } as ClientRequest);
  }

  onMessage(message: AgentMessage): void {
    if (!FINAL_TYPES.has(message.type)) {
      if (this.finished) return;
      this.queuedBytes += costOf(message);
      if (this.queuedBytes > MAX_QUEUED_BYTES) return this.refuse();
      this.queue.push(message);
      return this.notify();
    }
    if (message.type === "error") return this.settle(fromWireError(message, this.what));
    if (!isReplyTo(this.type, message)) {
      return this.settle(new AgentisoError("INTERNAL", `agent answered ${message.type} to ${this.type}, expected ${replyTypeOf(this.type)}`));
    }
    this.settle(undefined, message);
  }

  onClose(error: AgentisoError): void {
    this.settle(error);
  }

  /** Sends a stream message (end/ack/pty_resize) on this request's id. */
  send(message: { type: "end" } | { type: "ack"; bytes: number } | { type: "pty_resize"; rows: number; cols: number }): void {
    if (!this.finished) this.connection.send({ ...message, id: this.id });
  }

  /** True once the final reply (or a failure) has arrived. */
  get isFinished(): boolean {
    return this.finished;
  }

  /** Sends bytes on this request's id. */
  sendData(bytes: Buffer): void {
    if (!this.finished) this.connection.sendData(this.id, bytes);
  }

  // Yields non-final messages until the final reply; throws the request's error.
  async *events(): AsyncGenerator<AgentMessage> {
    while (true) {
      const next = this.queue.shift();
      if (next) {
        this.queuedBytes -= costOf(next);
        yield next;
        if (next.type === "data") this.send({ type: "ack", bytes: Buffer.byteLength(next.data, "base64") });
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.finished) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Tells the agent to stop and fails the request with CANCELLED (or TIMEOUT). */
  abort(): void {
    if (this.finished) return;
    this.connection.send({ id: this.id, type: "cancel" });
    this.settle(abortedError(this.signal, this.what));
  }

  // The agent ignored flow control: stop the request (the agent is told to cancel) and drop what it queued.
  private refuse(): void {
    this.connection.send({ id: this.id, type: "cancel" });
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.settle(tooLarge({ what: `the agent's unread messages for ${this.what}`, maxBytes: MAX_QUEUED_BYTES }));
  }

  private settle(error?: AgentisoError, message?: ReplyTo<T>): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = error;
    this.connection.unregister(this.id);
    this.signal.removeEventListener("abort", this.onAbort);
    if (error) this.settleResult.reject(error);
    else this.settleResult.resolve(message!);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function costOf(message: AgentMessage): number {
  return MESSAGE_COST_BYTES + (message.type === "data" ? message.data.length : 0);
}
