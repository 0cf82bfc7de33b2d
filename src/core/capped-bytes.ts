// The one capped reader for bytes a workspace produced (a patch, opencode's stdout, a download,
// an agent's message): it counts every byte, holds at most a fixed window of them, and fails
// with TOO_LARGE past its cap — so nothing a workspace writes costs the daemon more than that.
import { AgentisoError } from "./errors.js";

export interface ByteCap {
  /** What the bytes are, for the error: e.g. "the patch of task fix-a". */
  what: string;
  /** Bytes allowed in total; one more fails with TOO_LARGE. Infinity: never fails (a tail window). */
  maxBytes: number;
  /** Where an operator raises the cap, named in the error (e.g. "[caps] patchBytes"). */
  setting?: string;
}

export interface CappedBytesOptions extends ByteCap {
  /**
   * What is held: "all" every byte up to maxBytes (the whole patch), "tail" only the last
   * windowBytes (stderr), "none" nothing (a download counted on its way to disk).
   */
  keep: "all" | "tail" | "none";
  /** With keep "tail": how many of the last bytes are held. */
  windowBytes?: number;
}

// The TOO_LARGE error every capped reader throws: what, the cap, and how to raise it.
export function tooLarge(cap: ByteCap, seenBytes?: number): AgentisoError {
  const seen = seenBytes === undefined ? "" : `${seenBytes} bytes or more, `;
  const raise = cap.setting ? ` (the cap is ${cap.setting} in config.toml)` : "";
  return new AgentisoError("TOO_LARGE", `${cap.what} is too large: ${seen}over the cap of ${cap.maxBytes} bytes${raise}`, {
    details: { maxBytes: cap.maxBytes, ...(seenBytes !== undefined && { seenBytes }) },
  });
}

/** Fed chunks as they arrive; throws TOO_LARGE on the chunk that passes the cap. */
export class CappedBytes {
  private chunks: Buffer[] = [];
  private heldBytes = 0;
  private total = 0;
  private readonly windowBytes: number;

  constructor(private readonly options: CappedBytesOptions) {
    this.windowBytes = options.keep === "tail" ? (options.windowBytes ?? 64 * 1024) : options.keep === "all" ? Infinity : 0;
  }

  /** Every byte pushed so far (also those no longer held). */
  get totalBytes(): number {
    return this.total;
  }

  // Counts the chunk and holds what the window allows; throws TOO_LARGE once the total passes maxBytes.
  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.total > this.options.maxBytes) {
      this.chunks = [];
      this.heldBytes = 0;
      throw tooLarge(this.options, this.total);
    }
    if (this.windowBytes === 0 || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.heldBytes += chunk.length;
    while (this.heldBytes - this.chunks[0]!.length >= this.windowBytes) this.heldBytes -= this.chunks.shift()!.length;
  }

  /** The held bytes (with keep "tail": exactly the last windowBytes or fewer). */
  toBuffer(): Buffer {
    const all = Buffer.concat(this.chunks, this.heldBytes);
    return all.length > this.windowBytes ? all.subarray(all.length - this.windowBytes) : all;
  }

  toString(): string {
    return this.toBuffer().toString("utf8");
  }
}

// Reads a whole stream into memory under a cap; stops reading (ending the source) at the cap.
export async function readCapped(source: AsyncIterable<Buffer>, cap: ByteCap): Promise<Buffer> {
  const bytes = new CappedBytes({ ...cap, keep: "all" });
  for await (const chunk of source) bytes.push(chunk);
  return bytes.toBuffer();
}

/** Text a workspace chose (an agent's error message) as the host logs or repeats it: at most maxChars. */
export function clipText(text: string, maxChars = 2000): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}… (${text.length - maxChars} more characters)`;
}
