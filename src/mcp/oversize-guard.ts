// Keeps `agentiso serve` alive when a client sends a message over the size limit. The SDK's
// stdio transport closes the connection on such a line; this stream sits between stdin and
// the transport, drops the line (keeping only its head and tail) and lets serve answer it:
// an isError tool result for tools/call, a JSON-RPC error otherwise.
import { Transform, type TransformCallback } from "node:stream";

const KEEP_BYTES = 512;

export interface OversizedMessage {
  sizeBytes: number;
  /** The request id when it could be read from the head or the tail of the line. */
  id: string | number | undefined;
  method: string | undefined;
}

export class OversizeGuard extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dropping: { head: Buffer; tail: Buffer; size: number } | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly onOversized: (message: OversizedMessage) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let rest = chunk;
    while (rest.length > 0) {
      const newline = rest.indexOf(0x0a);
      const piece = newline < 0 ? rest : rest.subarray(0, newline + 1);
      rest = newline < 0 ? Buffer.alloc(0) : rest.subarray(newline + 1);
      this.acceptPiece(piece, newline >= 0);
    }
    done();
  }

  private acceptPiece(piece: Buffer, endsLine: boolean): void {
    if (this.dropping) {
      this.dropping.size += piece.length;
      this.dropping.tail = Buffer.concat([this.dropping.tail, piece]).subarray(-KEEP_BYTES);
    } else if (this.pendingBytes + piece.length > this.maxBytes) {
      const whole = Buffer.concat([...this.pending, piece]);
      this.dropping = { head: whole.subarray(0, KEEP_BYTES), tail: whole.subarray(-KEEP_BYTES), size: whole.length };
      this.pending = [];
      this.pendingBytes = 0;
    } else {
      this.pending.push(piece);
      this.pendingBytes += piece.length;
    }
    if (!endsLine) return;
    if (this.dropping) {
      const { head, tail, size } = this.dropping;
      this.dropping = undefined;
      this.onOversized(describeOversized(head, tail, size));
    } else {
      this.push(Buffer.concat(this.pending));
      this.pending = [];
      this.pendingBytes = 0;
    }
  }
}

const ID = /"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,16})/;
const METHOD = /"method"\s*:\s*"([a-z/_]{1,64})"/;

// What can be told about a message from its first and last bytes (id and method).
export function describeOversized(headBytes: Buffer, tailBytes: Buffer, sizeBytes: number): OversizedMessage {
  const head = headBytes.subarray(0, KEEP_BYTES).toString("utf8");
  const tail = tailBytes.subarray(-KEEP_BYTES).toString("utf8");
  // The SDK client writes {"method", "params", "jsonrpc", "id"}: the id is at the end.
  const idText = ID.exec(tail)?.[1] ?? ID.exec(head)?.[1];
  const id = idText === undefined ? undefined : (JSON.parse(idText) as string | number);
  return { sizeBytes, id, method: METHOD.exec(head)?.[1] ?? METHOD.exec(tail)?.[1] };
}

// The line serve writes back for an oversized message (undefined when there is no id to answer).
export function oversizedAnswer(message: OversizedMessage, maxBytes: number): string | undefined {
  if (message.id === undefined) return undefined;
  const text = `INVALID_INPUT: the message is ${message.sizeBytes} bytes, over the ${maxBytes}-byte limit of this MCP server: send large files with file_transfer`;
  const body =
    message.method === "tools/call"
      ? { jsonrpc: "2.0", id: message.id, result: { isError: true, content: [{ type: "text", text }] } }
      : { jsonrpc: "2.0", id: message.id, error: { code: -32600, message: text } };
  return JSON.stringify(body) + "\n";
}
