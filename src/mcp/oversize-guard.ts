// Keeps `agentiso serve` alive when a client sends a message over the size limit. The SDK's
// stdio transport closes the connection on such a line; this stream sits between stdin and
// the transport, drops the line (keeping only its head and tail) and lets serve answer it:
// an isError tool result for tools/call, a JSON-RPC error otherwise.
import { Transform, type TransformCallback } from "node:stream";
import { LineReader } from "../core/line-reader.js";

const KEEP_BYTES = 512;
const NEWLINE = Buffer.from("\n");

export interface OversizedMessage {
  sizeBytes: number;
  /** The request id when it could be read from the head or the tail of the line. */
  id: string | number | undefined;
  method: string | undefined;
}

export class OversizeGuard extends Transform {
  private readonly reader: LineReader;

  constructor(maxBytes: number, onOversized: (message: OversizedMessage) => void) {
    super();
    this.reader = new LineReader({
      // maxBytes counts the newline; the reader's limit does not
      maxLineBytes: maxBytes - 1,
      stripCarriageReturn: false,
      tooLong: { action: "skip", keepBytes: KEEP_BYTES, onSkipped: ({ head, tail, sizeBytes }) => onOversized(describeOversized(head, tail, sizeBytes)) },
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.reader.feed(chunk, (line) => this.push(Buffer.concat([line, NEWLINE])));
    done();
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
