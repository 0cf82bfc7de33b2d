// QMP is one JSON object per line. This splits a byte stream into lines and refuses to hold
// more than `maxLineBytes` of one line, so a broken peer cannot grow our memory without limit.
import { AgentisoError } from "../../core/errors.js";

/** Long enough for `query-qmp-schema` (~200 KiB on QEMU 7.2) with a wide margin. */
export const MAX_QMP_LINE_BYTES = 4 * 1024 * 1024;

export class QmpLineReader {
  private chunks: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes = MAX_QMP_LINE_BYTES) {}

  // Returns the complete lines in this chunk (without "\n"); throws BACKEND_FAILED past the limit.
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10, start)) {
      this.append(chunk.subarray(start, newline));
      lines.push(Buffer.concat(this.chunks).toString("utf8").replace(/\r$/, ""));
      this.chunks = [];
      this.pendingBytes = 0;
      start = newline + 1;
    }
    this.append(chunk.subarray(start));
    return lines;
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    this.pendingBytes += part.length;
    if (this.pendingBytes > this.maxLineBytes) {
      throw new AgentisoError("BACKEND_FAILED", `QMP peer sent a line longer than ${this.maxLineBytes} bytes: not a QEMU monitor`);
    }
    this.chunks.push(part);
  }
}
