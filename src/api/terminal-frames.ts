// The framing of a terminal session on the control socket, after the HTTP upgrade
// (GET /v1/terminal/<operation>, `Upgrade: agentiso-terminal`): each frame is one kind byte,
// a u32 big-endian payload length, then the payload. Pure and bounded: a decoder accepts only
// the kinds its side may receive and refuses an unknown kind or a length over that kind's
// limit from the 5-byte header, before buffering anything of the payload.
import { AgentisoError } from "../core/errors.js";
import { MAX_PTY_DIMENSION } from "../contract/shell-contract.js";

/** The `Upgrade` token of the terminal door. */
export const TERMINAL_PROTOCOL = "agentiso-terminal";

export const FRAME = {
  /** client → daemon, first and once: JSON `{"input": {...}, "session"?: "..."}`. */
  OPEN: 0x01,
  /** client → daemon: keystrokes, raw bytes. */
  STDIN: 0x02,
  /** client → daemon, empty: no more input (the terminal sees its EOF character). */
  STDIN_END: 0x03,
  /** client → daemon: u16 rows, u16 cols (big-endian), each 1..MAX_PTY_DIMENSION. */
  RESIZE: 0x04,
  /** daemon → client, empty: the command runs (the client may switch its terminal to raw mode). */
  STARTED: 0x81,
  /** daemon → client: terminal output, raw bytes. */
  OUTPUT: 0x82,
  /** daemon → client, last: the control API's JSON envelope `{"ok": true, "result"}` or `{"ok": false, "error"}`. */
  RESULT: 0x83,
} as const;

export const MAX_STDIN_FRAME_BYTES = 64 * 1024;
export const MAX_OUTPUT_FRAME_BYTES = 1024 * 1024;
export const MAX_JSON_FRAME_BYTES = 1024 * 1024;
const HEADER_BYTES = 5;

/** Largest payload of each kind a side accepts; a kind not listed is refused. */
export const CLIENT_FRAME_LIMITS: ReadonlyMap<number, number> = new Map([
  [FRAME.OPEN, MAX_JSON_FRAME_BYTES],
  [FRAME.STDIN, MAX_STDIN_FRAME_BYTES],
  [FRAME.STDIN_END, 0],
  [FRAME.RESIZE, 4],
]);
export const DAEMON_FRAME_LIMITS: ReadonlyMap<number, number> = new Map([
  [FRAME.STARTED, 0],
  [FRAME.OUTPUT, MAX_OUTPUT_FRAME_BYTES],
  [FRAME.RESULT, MAX_JSON_FRAME_BYTES],
]);

export interface TerminalFrame {
  kind: number;
  payload: Buffer;
}

// One frame; the caller keeps payloads within the kind's limit (writeFrames splits output).
export function encodeFrame(kind: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const bytes = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt8(kind, 0);
  header.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([header, bytes]);
}

// Output or input bytes as frames of at most maxBytes each.
export function encodeChunked(kind: number, bytes: Buffer, maxBytes: number): Buffer[] {
  const frames: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += maxBytes) frames.push(encodeFrame(kind, bytes.subarray(at, at + maxBytes)));
  return frames;
}

export function encodeResize(rows: number, cols: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt16BE(rows, 0);
  payload.writeUInt16BE(cols, 2);
  return encodeFrame(FRAME.RESIZE, payload);
}

// A RESIZE payload's size; INVALID_INPUT outside 1..MAX_PTY_DIMENSION.
export function decodeResize(payload: Buffer): { rows: number; cols: number } {
  if (payload.length !== 4) throw new AgentisoError("INVALID_INPUT", `a terminal resize is 4 bytes, got ${payload.length}`);
  const rows = payload.readUInt16BE(0);
  const cols = payload.readUInt16BE(2);
  for (const [name, value] of [["rows", rows], ["cols", cols]] as const) {
    if (value < 1 || value > MAX_PTY_DIMENSION) throw new AgentisoError("INVALID_INPUT", `terminal ${name} must be 1..${MAX_PTY_DIMENSION}, got ${value}`);
  }
  return { rows, cols };
}

// A JSON payload (OPEN, RESULT) that must be an object.
export function decodeJsonObject(payload: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch (err) {
    throw new AgentisoError("INVALID_INPUT", `${what} is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new AgentisoError("INVALID_INPUT", `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Splits one side's byte stream into frames; after a bad header `error` is set and nothing more is decoded. */
export class TerminalFrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  error: AgentisoError | undefined;

  constructor(
    private readonly limits: ReadonlyMap<number, number>,
    private readonly peer: string,
  ) {}

  // Adds bytes and returns every frame now complete (those before a bad header too).
  push(chunk: Buffer): TerminalFrame[] {
    if (this.error) return [];
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: TerminalFrame[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const kind = this.pending.readUInt8(0);
      const length = this.pending.readUInt32BE(1);
      const limit = this.limits.get(kind);
      if (limit === undefined || length > limit) {
        const why = limit === undefined ? `unknown frame kind 0x${kind.toString(16)}` : `frame kind 0x${kind.toString(16)} of ${length} bytes (at most ${limit})`;
        this.error = new AgentisoError("INVALID_INPUT", `bad terminal frame from the ${this.peer}: ${why}`);
        this.pending = Buffer.alloc(0);
        break;
      }
      if (this.pending.length < HEADER_BYTES + length) break;
      frames.push({ kind, payload: this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length) });
      this.pending = this.pending.subarray(HEADER_BYTES + length);
    }
    return frames;
  }

  /** Bytes of an unfinished frame (non-zero at the end of the stream: the peer cut a frame short). */
  get pendingBytes(): number {
    return this.pending.length;
  }
}
