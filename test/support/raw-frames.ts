// Speaks the agent protocol byte by byte, for tests of bad input: send any bytes or
// messages, then wait for the next message matching a predicate, or for the close.
import type { Duplex } from "node:stream";
import { encodeFrame, FrameDecoder, parsePayload } from "../../src/protocol/frame.js";

export type RawMessage = Record<string, unknown> & { id: number; type: string };

/** A raw protocol speaker over one Duplex. */
export class RawFrames {
  private readonly decoder = new FrameDecoder();
  private readonly received: RawMessage[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(readonly transport: Duplex) {
    transport.on("data", (chunk: Buffer) => {
      for (const payload of this.decoder.push(chunk)) this.received.push(parsePayload(payload) as RawMessage);
      this.wake();
    });
    transport.on("error", () => {});
    transport.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  send(message: unknown): void {
    this.transport.write(encodeFrame(message));
  }

  sendBytes(bytes: Buffer): void {
    this.transport.write(bytes);
  }

  // Resolves with (and removes) the first message matching; rejects when the stream closes first.
  async next(match: (m: RawMessage) => boolean = () => true): Promise<RawMessage> {
    while (true) {
      const at = this.received.findIndex(match);
      if (at >= 0) return this.received.splice(at, 1)[0]!;
      if (this.closed) throw new Error(`connection closed; unmatched messages: ${JSON.stringify(this.received).slice(0, 500)}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  reply(id: number): Promise<RawMessage> {
    return this.next((m) => m.id === id);
  }

  /** Resolves once the peer has closed the connection. */
  async closedByPeer(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async hello(): Promise<RawMessage> {
    this.send({ id: 1, type: "hello", version: 1 });
    return this.reply(1);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** A frame header claiming `length` bytes. */
export function header(length: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(length >>> 0, 0);
  return buffer;
}
