// Splits a byte stream into newline-ended lines without ever holding more than `maxLineBytes`
// of one line, so a peer that never sends a newline cannot grow our memory without limit.
// Pure: fed chunks, no I/O. QMP, the control API's NDJSON progress, opencode's events and the
// MCP stdin guard all read their lines through it.
import { constants } from "node:buffer";
import type { AgentisoError } from "./errors.js";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** The longest line that can still become one JavaScript string: the bound of readers that had none. */
export const MAX_STRING_LINE_BYTES = constants.MAX_STRING_LENGTH;

/** What is kept of a line dropped for its length. */
export interface SkippedLine {
  /** Bytes of the line, its newline included. */
  sizeBytes: number;
  /** Its first and its last `keepBytes` bytes (the same bytes when the line is short). */
  head: Buffer;
  tail: Buffer;
}

export type TooLongPolicy =
  /** The reader is done for: the peer is not what it claims to be. */
  | { action: "throw"; error: (maxLineBytes: number) => AgentisoError }
  /** Drop the line (keeping only its ends), report it once its newline comes, read on. */
  | { action: "skip"; keepBytes: number; onSkipped: (line: SkippedLine) => void };

export interface LineReaderOptions {
  /** Longest line held, its newline not counted. */
  maxLineBytes: number;
  /** Drops one "\r" before each newline (CRLF peers). */
  stripCarriageReturn: boolean;
  tooLong: TooLongPolicy;
}

export class LineReader {
  private parts: Buffer[] = [];
  private heldBytes = 0;
  private skipping: SkippedLine | undefined;

  constructor(private readonly options: LineReaderOptions) {}

  // Feeds bytes and calls onLine for each line they complete, in stream order (skipped lines
  // reach the skip policy in that same order); throws under the throw policy at the first byte
  // over the limit.
  feed(chunk: Uint8Array | string, onLine: (line: Buffer) => void): void {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let newline = bytes.indexOf(NEWLINE); newline >= 0; newline = bytes.indexOf(NEWLINE, start)) {
      this.take(bytes.subarray(start, newline));
      const line = this.finishLine();
      if (line) onLine(line);
      start = newline + 1;
    }
    this.take(bytes.subarray(start));
  }

  // Feeds bytes and returns the lines they complete, decoded as UTF-8, without their newline.
  push(chunk: Uint8Array | string): string[] {
    const lines: string[] = [];
    this.feed(chunk, (line) => lines.push(line.toString("utf8")));
    return lines;
  }

  // The bytes after the last newline (a last line that has none), decoded; the reader starts afresh.
  end(): string {
    const rest = this.skipping ? Buffer.alloc(0) : this.stripped(Buffer.concat(this.parts, this.heldBytes));
    this.reset();
    return rest.toString("utf8");
  }

  private take(part: Buffer): void {
    if (part.length === 0) return;
    if (this.skipping) {
      this.skipping.sizeBytes += part.length;
      this.skipping.tail = lastBytes([this.skipping.tail, part], this.keepBytes());
    } else if (this.heldBytes + part.length > this.options.maxLineBytes) {
      this.overflow(part);
    } else {
      this.parts.push(part);
      this.heldBytes += part.length;
    }
  }

  private overflow(part: Buffer): void {
    const policy = this.options.tooLong;
    if (policy.action === "throw") {
      this.reset();
      throw policy.error(this.options.maxLineBytes);
    }
    const pieces = [...this.parts, part];
    const sizeBytes = this.heldBytes + part.length;
    this.skipping = { sizeBytes, head: Buffer.concat(pieces, Math.min(sizeBytes, policy.keepBytes)), tail: lastBytes(pieces, policy.keepBytes) };
    this.parts = [];
    this.heldBytes = 0;
  }

  private finishLine(): Buffer | undefined {
    const skipped = this.skipping;
    if (skipped) {
      this.skipping = undefined;
      skipped.sizeBytes += 1;
      skipped.tail = lastBytes([skipped.tail, Buffer.from([NEWLINE])], this.keepBytes());
      if (this.options.tooLong.action === "skip") this.options.tooLong.onSkipped(skipped);
      return undefined;
    }
    const line = this.stripped(Buffer.concat(this.parts, this.heldBytes));
    this.reset();
    return line;
  }

  private stripped(line: Buffer): Buffer {
    return this.options.stripCarriageReturn && line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line;
  }

  private keepBytes(): number {
    return this.options.tooLong.action === "skip" ? this.options.tooLong.keepBytes : 0;
  }

  private reset(): void {
    this.parts = [];
    this.heldBytes = 0;
    this.skipping = undefined;
  }
}

// The last `count` bytes of the pieces, copied (a kept tail must not pin a whole chunk).
function lastBytes(pieces: readonly Buffer[], count: number): Buffer {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  for (let i = pieces.length - 1; i >= 0 && keptBytes < count; i--) {
    const piece = pieces[i]!;
    const slice = piece.subarray(Math.max(0, piece.length - (count - keptBytes)));
    kept.unshift(slice);
    keptBytes += slice.length;
  }
  return Buffer.concat(kept, keptBytes);
}
