// Bounded output capture. `CappedBuffer` keeps the first N bytes (exec results);
// `RingBuffer` keeps the last N bytes (background jobs, whose output may be endless).

/** Keeps the first maxBytes; sets truncated when more came. */
export class CappedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    const room = this.maxBytes - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  text(): string {
    return Buffer.concat(this.chunks, this.size).toString("utf8");
  }
}

/** Keeps the last maxBytes; sets truncated once older bytes were dropped. Positions count every
 * byte ever pushed, so a reader that follows the output can ask for what came after its own. */
export class RingBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes ever pushed: the position just past the newest byte. */
  total = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  /** Position of the oldest byte still kept. */
  get oldest(): number {
    return this.total - this.size;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.total += chunk.length;
    while (this.size > this.maxBytes) {
      const first = this.chunks[0]!;
      const excess = this.size - this.maxBytes;
      this.truncated = true;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  // At most maxBytes kept from `position` on (from the oldest kept byte when it fell out).
  read(position: number, maxBytes: number): { data: Buffer; from: number } {
    const from = Math.max(position, this.oldest);
    let skip = from - this.oldest;
    const parts: Buffer[] = [];
    let length = 0;
    for (const chunk of this.chunks) {
      if (length >= maxBytes) break;
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      const part = chunk.subarray(skip, skip + maxBytes - length);
      skip = 0;
      parts.push(part);
      length += part.length;
    }
    return { data: Buffer.concat(parts, length), from };
  }

  text(): string {
    return Buffer.concat(this.chunks, this.size).toString("utf8");
  }
}
