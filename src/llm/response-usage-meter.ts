// Reads token usage out of a response body as it streams past, without changing it: SSE
// events (`data: {...}` lines) are parsed one by one, a JSON body once at the end. Later
// reports of a field replace earlier ones (OpenAI repeats usage; Anthropic sends input in
// message_start and the output total in message_delta).
import { StringDecoder } from "node:string_decoder";
import { usageFromPayload, type PartialUsage } from "./token-usage.js";

const MAX_JSON_BODY_BYTES = 8 * 1024 * 1024;
const MAX_SSE_LINE_CHARS = 4 * 1024 * 1024;

export class ResponseUsageMeter {
  private readonly decoder = new StringDecoder("utf8");
  private readonly sse: boolean;
  private pending = "";
  private jsonChunks: Buffer[] = [];
  private jsonBytes = 0;
  private usage: PartialUsage = {};
  private seenBytes = 0;

  constructor(contentType: string | undefined) {
    this.sse = (contentType ?? "").includes("text/event-stream");
  }

  /** Body bytes seen so far (what an estimate of output tokens starts from). */
  get bytes(): number {
    return this.seenBytes;
  }

  push(chunk: Buffer): void {
    this.seenBytes += chunk.length;
    if (!this.sse) {
      this.jsonBytes += chunk.length;
      if (this.jsonBytes <= MAX_JSON_BODY_BYTES) this.jsonChunks.push(chunk);
      return;
    }
    this.pending += this.decoder.write(chunk);
    let newline: number;
    while ((newline = this.pending.indexOf("\n")) >= 0) {
      this.line(this.pending.slice(0, newline));
      this.pending = this.pending.slice(newline + 1);
    }
    if (this.pending.length > MAX_SSE_LINE_CHARS) this.pending = ""; // no usage hides in a 4 MiB line
  }

  // Usage reported by the whole response (empty when it reported none).
  finish(): PartialUsage {
    if (this.sse) {
      this.line(this.pending + this.decoder.end());
      this.pending = "";
    } else if (this.jsonBytes <= MAX_JSON_BODY_BYTES) {
      this.merge(Buffer.concat(this.jsonChunks).toString("utf8"));
    }
    return { ...this.usage };
  }

  private line(raw: string): void {
    const line = raw.replace(/\r$/, "");
    if (!line.startsWith("data:")) return;
    const data = line.slice(5).trim();
    if (data && data !== "[DONE]") this.merge(data);
  }

  private merge(text: string): void {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return;
    }
    const found = usageFromPayload(payload);
    if (found) this.usage = { ...this.usage, ...found };
  }
}
