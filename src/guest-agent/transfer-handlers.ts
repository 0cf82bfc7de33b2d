// Streamed file transfers. Download: data chunks within the client's window, then done.
// Upload: the client streams data + end; each chunk is acked once written, so memory stays
// bounded; the file appears (rename) only when complete, and a cancelled upload leaves nothing.
import { open, rename, unlink, chmod } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CHUNK_BYTES, FlowWindow, STREAM_WINDOW_BYTES, type RequestOf } from "../protocol/index.js";
import type { HandlerReply, RequestContext } from "./request-context.js";
import { WireError } from "./wire-error.js";

// Streams [offset, offset+limit) of a file as data chunks and answers done {bytes}.
export async function handleFileDownload(request: RequestOf<"file_download">, ctx: RequestContext): Promise<HandlerReply<"file_download">> {
  const window = new FlowWindow(STREAM_WINDOW_BYTES);
  ctx.onStream({ onAck: (bytes) => window.acked(bytes) });
  ctx.signal.addEventListener("abort", () => window.release(), { once: true });
  const file = await open(request.path, "r");
  try {
    let position = request.offset ?? 0;
    const end = request.limit === undefined ? Number.MAX_SAFE_INTEGER : position + request.limit;
    let sent = 0;
    while (position < end) {
      await window.room();
      ctx.signal.throwIfAborted();
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, end - position));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      ctx.sendData(ctx.id, buffer.subarray(0, bytesRead));
      window.sent(bytesRead);
      position += bytesRead;
      sent += bytesRead;
    }
    return { id: ctx.id, type: "done", bytes: sent };
  } finally {
    await file.close();
  }
}

// Receives data chunks into a temp file next to the target, renamed into place on end.
export async function handleFileUpload(request: RequestOf<"file_upload">, ctx: RequestContext): Promise<HandlerReply<"file_upload">> {
  const temp = join(dirname(request.path), `.agentiso-upload-${process.pid}-${ctx.id}`);
  const file = await open(temp, "w", request.mode ?? 0o644);
  let written = 0;
  let queue: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    ctx.signal.addEventListener("abort", () => reject(new WireError("CANCELLED", "upload cancelled")), { once: true });
    ctx.onStream({
      onData: (data) => {
        queue = queue.then(() => writeChunk(data)).catch((err: Error) => {
          failure ??= err;
          reject(err);
        });
      },
      onEnd: () => void queue.then(() => (failure ? reject(failure) : resolve())),
    });
  });
  const writeChunk = async (data: Buffer) => {
    if (failure) return;
    written += data.length;
    if (request.maxBytes !== undefined && written > request.maxBytes) {
      throw new WireError("TOO_LARGE", `upload exceeds its limit of ${request.maxBytes} bytes`);
    }
    await file.write(data);
    ctx.send({ id: ctx.id, type: "ack", bytes: data.length });
  };
  try {
    await finished;
    await file.close();
    if (request.mode !== undefined) await chmod(temp, request.mode);
    await rename(temp, request.path);
    return { id: ctx.id, type: "done", bytes: written };
  } catch (err) {
    await file.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
}
