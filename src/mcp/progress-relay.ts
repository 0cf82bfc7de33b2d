// Progress events of one tool call as MCP notifications/progress, for a client that sent a
// progressToken. Bounded in rate and size whatever the command prints: output is coalesced
// and sent at most every FLUSH_MS, a message holds at most MESSAGE_BYTES, and what piles up
// past PENDING_BYTES between two flushes is dropped (the message says how much; the tool's
// result still holds the output up to its maxOutputBytes). Never slows the operation.
import { StringDecoder } from "node:string_decoder";
import { outputBytesOf } from "../contract/output-event.js";

export const FLUSH_MS = 100;
export const MESSAGE_BYTES = 8 * 1024;
const PENDING_BYTES = 64 * 1024;
const EVENT_TEXT_CHARS = 1000;
const MAX_QUEUED_EVENTS = 256;

export interface ProgressNotification {
  method: "notifications/progress";
  params: { progressToken: string | number; progress: number; message: string };
}

type Send = (notification: ProgressNotification) => Promise<void>;

export class ProgressRelay {
  private readonly output = { stdout: new PendingText(), stderr: new PendingText(), log: new PendingText() };
  private readonly events: string[] = [];
  private droppedEvents = 0;
  private progress = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly token: string | number,
    private readonly send: Send,
  ) {}

  /** The operation's progress callback. */
  readonly take = (event: unknown): void => {
    const output = outputBytesOf(event);
    if (output) this.output[output.stream].add(output.bytes);
    else if (this.events.length < MAX_QUEUED_EVENTS) this.events.push(clip(JSON.stringify(event) ?? "", EVENT_TEXT_CHARS));
    else this.droppedEvents++;
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  };

  // Sends what is pending; the call's result should wait for it, so progress arrives first.
  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.flush();
  }

  private flush(): Promise<void> {
    this.timer = undefined;
    const messages = [...this.events.splice(0)];
    if (this.droppedEvents > 0) messages.push(`[agentiso: ${this.droppedEvents} progress events not shown]`);
    this.droppedEvents = 0;
    for (const [stream, pending] of Object.entries(this.output)) {
      const text = pending.drain();
      if (text) messages.push(stream === "stderr" ? `[stderr] ${text}` : text);
    }
    // one at a time, in order; a client that went away fails a send, which nobody needs to hear
    this.sending = this.sending.then(async () => {
      for (const message of messages) {
        this.progress++;
        await this.send({ method: "notifications/progress", params: { progressToken: this.token, progress: this.progress, message } }).catch(() => undefined);
      }
    });
    return this.sending;
  }
}

/** Output of one stream between flushes: its first bytes up to a message, a count of the rest. */
class PendingText {
  private readonly decoder = new StringDecoder("utf8");
  private text = "";
  private dropped = 0;

  add(bytes: Buffer): void {
    const room = PENDING_BYTES - this.text.length;
    const text = this.decoder.write(bytes);
    if (text.length <= room) this.text += text;
    else {
      this.text += text.slice(0, Math.max(0, room));
      this.dropped += Buffer.byteLength(text.slice(Math.max(0, room)));
    }
  }

  drain(): string {
    if (!this.text && this.dropped === 0) return "";
    let message = this.text;
    let dropped = this.dropped;
    if (Buffer.byteLength(message) > MESSAGE_BYTES) {
      const kept = clip(message, MESSAGE_BYTES);
      dropped += Buffer.byteLength(message) - Buffer.byteLength(kept);
      message = kept;
    }
    this.text = "";
    this.dropped = 0;
    return dropped > 0 ? `${message}\n[agentiso: ${dropped} bytes of output not shown here]` : message;
  }
}

// The longest start of text that fits in max bytes of UTF-8 (never half a character).
function clip(text: string, max: number): string {
  const bytes = Buffer.from(text);
  return bytes.length <= max ? text : new StringDecoder("utf8").write(bytes.subarray(0, max));
}
