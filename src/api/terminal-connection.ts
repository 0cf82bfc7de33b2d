// The daemon's end of one upgraded terminal connection, as the TerminalChannel a terminal
// operation reads and writes. Input frames are queued for the operation (the socket pauses
// while MAX_QUEUED_INPUT_BYTES wait, so a fast typist or a big paste cannot grow the daemon);
// output waits for the socket to drain. A bad frame fails the call (`failed`) instead of
// being guessed at; the RESULT frame ends the connection.
import type { Duplex } from "node:stream";
import { AgentisoError } from "../core/errors.js";
import type { TerminalChannel, TerminalInput } from "../operations/invoke.js";
import {
  CLIENT_FRAME_LIMITS, decodeJsonObject, decodeResize, encodeChunked, encodeFrame, FRAME, MAX_OUTPUT_FRAME_BYTES, TerminalFrameDecoder, type TerminalFrame,
} from "./terminal-frames.js";

/** Input bytes queued for the operation before the socket stops being read. */
export const MAX_QUEUED_INPUT_BYTES = 256 * 1024;
/** What each queued event counts on top of its bytes, so a flood of resizes is bounded too. */
const EVENT_COST_BYTES = 64;

export interface OpenRequest {
  input: unknown;
  session?: string;
}

export class TerminalConnection implements TerminalChannel {
  private readonly decoder = new TerminalFrameDecoder(CLIENT_FRAME_LIMITS, "client");
  private readonly queue: TerminalInput[] = [];
  private queuedBytes = 0;
  private wake: (() => void) | undefined;
  /** STDIN_END came: later keystrokes are dropped (resizes still count). */
  private stdinEnded = false;
  /** The connection is over (failed or finished): the input iteration ends. */
  private over = false;
  private settleOpen!: { resolve: (open: OpenRequest) => void; reject: (err: AgentisoError) => void };
  private openSeen = false;
  private failOnce!: (err: AgentisoError) => void;
  /** The client's first frame: what to call. Rejects on a bad frame or when the client leaves first. */
  readonly opened: Promise<OpenRequest>;
  /** Settles with the reason the call must stop: a bad frame, or the client went away. */
  readonly failed: Promise<AgentisoError>;
  readonly input: AsyncIterable<TerminalInput> = { [Symbol.asyncIterator]: () => this.events() };

  constructor(
    private readonly socket: Duplex,
    head: Buffer,
  ) {
    this.opened = new Promise((resolve, reject) => (this.settleOpen = { resolve, reject }));
    this.opened.catch(() => {});
    this.failed = new Promise((resolve) => (this.failOnce = resolve));
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", () => {}); // reported as the close below
    // the control socket's connections are half-open capable: the client's end of stream is it leaving
    const gone = () => this.fail(new AgentisoError("CANCELLED", "the terminal's client went away"));
    socket.on("end", gone);
    socket.on("close", gone);
    if (head.length > 0) this.receive(head);
  }

  started(): void {
    this.socket.write(encodeFrame(FRAME.STARTED));
  }

  async write(data: Buffer): Promise<void> {
    let room = true;
    for (const frame of encodeChunked(FRAME.OUTPUT, data, MAX_OUTPUT_FRAME_BYTES)) room = this.socket.write(frame);
    if (room || this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = () => (this.socket.off("drain", done), this.socket.off("close", done), resolve());
      this.socket.once("drain", done);
      this.socket.once("close", done);
    });
  }

  /** Sends the call's answer (the control API's envelope) and closes the connection. */
  finish(envelope: unknown): void {
    this.endInput();
    if (this.socket.destroyed) return;
    this.socket.end(encodeFrame(FRAME.RESULT, JSON.stringify(envelope)));
  }

  private receive(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) {
      try {
        this.handle(frame);
      } catch (err) {
        return this.fail(err instanceof AgentisoError ? err : new AgentisoError("INVALID_INPUT", (err as Error).message));
      }
    }
    if (this.decoder.error) this.fail(this.decoder.error);
  }

  private handle(frame: TerminalFrame): void {
    if (frame.kind === FRAME.OPEN || !this.openSeen) {
      if (frame.kind !== FRAME.OPEN || this.openSeen) throw new AgentisoError("INVALID_INPUT", "a terminal session starts with exactly one OPEN frame");
      this.openSeen = true;
      const open = decodeJsonObject(frame.payload, "the OPEN frame");
      if (open.session !== undefined && typeof open.session !== "string") throw new AgentisoError("INVALID_INPUT", "the OPEN frame's session must be a string");
      return this.settleOpen.resolve({ input: open.input, ...(typeof open.session === "string" && { session: open.session }) });
    }
    if (frame.kind === FRAME.RESIZE) return this.enqueue({ type: "resize", ...decodeResize(frame.payload) });
    if (this.stdinEnded) return;
    if (frame.kind === FRAME.STDIN) this.enqueue({ type: "data", data: Buffer.from(frame.payload) });
    else if (frame.kind === FRAME.STDIN_END) {
      this.stdinEnded = true;
      this.enqueue({ type: "end" });
    }
  }

  private enqueue(event: TerminalInput): void {
    if (this.over) return;
    this.queue.push(event);
    this.queuedBytes += costOf(event);
    if (this.queuedBytes > MAX_QUEUED_INPUT_BYTES) this.socket.pause();
    this.notify();
  }

  private async *events(): AsyncGenerator<TerminalInput> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        this.queuedBytes -= costOf(next);
        if (this.queuedBytes <= MAX_QUEUED_INPUT_BYTES && this.socket.isPaused()) this.socket.resume();
        yield next;
        continue;
      }
      if (this.over) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Stops the session's input (the call is over or aborted); `failed` settles with err. */
  fail(err: AgentisoError): void {
    this.queue.length = 0;
    this.settleOpen.reject(err);
    this.failOnce(err);
    this.endInput();
  }

  private endInput(): void {
    this.over = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function costOf(event: TerminalInput): number {
  return EVENT_COST_BYTES + (event.type === "data" ? event.data.length : 0);
}
