// The wire framing: each message is a u32 big-endian byte length followed by that many bytes
// of UTF-8 JSON. Pure: the decoder is fed Buffers and hands back whole frames, so any
// transport (unix socket, virtio-serial, an in-memory pair) can use it.

/** Largest payload either side accepts; a bigger length prefix is refused before allocating. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const HEADER_BYTES = 4;

/** The stream is unusable after this: the reader cannot find the next frame boundary. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

// Encodes one message as a frame; throws FrameError when it would exceed MAX_FRAME_BYTES.
export function encodeFrame(message: unknown): Buffer {
  const json = JSON.stringify(message);
  const length = Buffer.byteLength(json, "utf8");
  if (length > MAX_FRAME_BYTES) {
    throw new FrameError(`message of ${length} bytes exceeds the ${MAX_FRAME_BYTES}-byte frame limit`);
  }
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, HEADER_BYTES, "utf8");
  return frame;
}

// Splits a byte stream into frame payloads; bounded: it never buffers more than one frame.
// After a bad length prefix the stream cannot resync: `error` is set and stays set.
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Set once a length prefix exceeded MAX_FRAME_BYTES; nothing more is decoded after it. */
  error: FrameError | undefined;

  /** Adds bytes and returns every payload now complete (those before a bad prefix too). */
  push(chunk: Buffer): Buffer[] {
    if (this.error) return [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    const frames: Buffer[] = [];
    while (this.size >= HEADER_BYTES) {
      const length = this.peekLength();
      if (length > MAX_FRAME_BYTES) {
        this.error = new FrameError(`frame length ${length} exceeds the ${MAX_FRAME_BYTES}-byte limit`);
        this.chunks = [];
        this.size = 0;
        break;
      }
      if (this.size < HEADER_BYTES + length) break;
      frames.push(this.take(HEADER_BYTES + length).subarray(HEADER_BYTES));
    }
    return frames;
  }

  /** Bytes of an incomplete frame; non-zero at end of stream means the peer cut a frame short. */
  get pendingBytes(): number {
    return this.size;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= HEADER_BYTES) return first.readUInt32BE(0);
    return this.take(HEADER_BYTES, false).readUInt32BE(0);
  }

  // Returns the first n bytes (joining chunks only when a frame spans them).
  private take(n: number, consume = true): Buffer {
    let first = this.chunks[0]!;
    if (first.length < n) {
      first = Buffer.concat(this.chunks, this.size);
      this.chunks = [first];
    }
    if (!consume) return first.subarray(0, n);
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.size -= n;
    return out;
  }
}

/** Payload → JSON value; throws SyntaxError on invalid JSON (the frame boundary is intact). */
export function parsePayload(payload: Buffer): unknown {
  return JSON.parse(payload.toString("utf8"));
}
