// Streamed file transfers over a GuestLink: upload sends chunks within the agent's flow
// window and stops when the agent refuses; download yields chunks and acks each as taken.
import { CHUNK_BYTES, FlowWindow, STREAM_WINDOW_BYTES } from "../protocol/index.js";
import type { CallOptions } from "./client-types.js";
import type { GuestLink } from "./guest-link.js";

// Streams bytes into a guest file (visible only once complete); returns bytes written.
export async function uploadFile(link: GuestLink, path: string, source: Buffer | AsyncIterable<Buffer | string>, how: { mode?: number; maxBytes?: number }, options: CallOptions): Promise<number> {
  const stream = await link.start({ type: "file_upload", path, ...how }, `upload ${path}`, options, undefined);
  const window = new FlowWindow(STREAM_WINDOW_BYTES);
  void stream.result.finally(() => window.release()).catch(() => {});
  void (async () => {
    for await (const event of stream.events()) if (event.type === "ack") window.acked(event.bytes);
  })().catch(() => {});
  for await (const chunk of chunksOf(source)) {
    await window.room();
    if (stream.isFinished) break; // the agent refused (e.g. TOO_LARGE): stop reading the source
    stream.sendData(chunk);
    window.sent(chunk.length);
  }
  stream.send({ type: "end" });
  return (await stream.result).bytes ?? 0;
}

// Streams a guest file (or a byte range of it) in chunks; breaking out cancels it.
export async function* downloadFile(link: GuestLink, path: string, range: { offset?: number; limit?: number }, options: CallOptions): AsyncGenerator<Buffer> {
  const stream = await link.start({ type: "file_download", path, ...range }, `download ${path}`, options, undefined);
  try {
    for await (const event of stream.events()) if (event.type === "data") yield Buffer.from(event.data, "base64");
    await stream.result;
  } finally {
    stream.abort();
  }
}

async function* chunksOf(source: Buffer | AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  const pieces = Buffer.isBuffer(source) ? [source] : source;
  for await (const piece of pieces) {
    const buffer = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
    for (let at = 0; at < buffer.length; at += CHUNK_BYTES) yield buffer.subarray(at, at + CHUNK_BYTES);
  }
}
