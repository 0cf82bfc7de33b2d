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

// Encodes {"id","type":"data","fd"?,"data"} exactly as encodeFrame would, without making
// JSON.stringify scan megabytes of base64 (which never needs escaping): bulk transfers.
export function encodeDataFrame(id: number, bytes: Buffer, fd?: 1 | 2): Buffer {
  const head = `{"id":${id},"type":"data",${fd === undefined ? "" : `"fd":${fd},`}"data":"`;
  const length = head.length + Math.ceil(bytes.length / 3) * 4 + 2;
  if (length > MAX_FRAME_BYTES) {
    throw new FrameError(`data message of ${length} bytes exceeds the ${MAX_FRAME_BYTES}-byte frame limit`);
  }
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(head, HEADER_BYTES, "latin1");
  frame.write(bytes.toString("base64"), HEADER_BYTES + head.length, "latin1");
  frame.write('"}', HEADER_BYTES + length - 2, "latin1");
  return frame;
}

const FAST_PATH_MIN_BYTES = 4096;
const DATA_HEAD = /^\{"id":(-?\d{1,16}),"type":"data",(?:"fd":([12]),)?$/;
const DATA_KEY = Buffer.from('"data":"');

/** Payload → JSON value; throws SyntaxError on invalid JSON (the frame boundary is intact). */
export function parsePayload(payload: Buffer): unknown {
  if (payload.length >= FAST_PATH_MIN_BYTES) {
    const data = parseDataPayload(payload);
    if (data) return data;
  }
  return JSON.parse(payload.toString("utf8"));
}

// Fast path for big data messages in the canonical shape encodeDataFrame writes; anything
// else (other key order, escapes, extra fields) returns undefined and goes to JSON.parse.
// Unlike JSON.parse it does not reject raw control bytes inside the data string; base64
// decoding skips them anyway, so the decoded bytes are the same.
function parseDataPayload(payload: Buffer): { id: number; type: "data"; fd?: 1 | 2; data: string } | undefined {
  const key = payload.indexOf(DATA_KEY);
  if (key < 0 || key > 64) return undefined;
  const head = DATA_HEAD.exec(payload.toString("latin1", 0, key));
  const start = key + DATA_KEY.length;
  const end = payload.length - 2;
  if (!head || payload[end] !== 0x22 || payload[end + 1] !== 0x7d) return undefined;
  if (payload.indexOf(0x22, start) !== end || payload.indexOf(0x5c, start) !== -1) return undefined;
  const data = payload.toString("latin1", start, end);
  const id = Number(head[1]);
  return head[2] === undefined ? { id, type: "data", data } : { id, type: "data", fd: Number(head[2]) as 1 | 2, data };
}
