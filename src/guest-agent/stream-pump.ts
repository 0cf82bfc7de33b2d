// Carries one TCP socket over one protocol stream id, both directions, with flow control:
// socket → data messages (paused while the client's window is full), data → socket
// (acked once written), end ↔ half-close, and done when the socket has closed.
import type { Socket } from "node:net";
import { FlowWindow, STREAM_WINDOW_BYTES } from "../protocol/index.js";
import type { RequestContext, StreamHandlers } from "./request-context.js";

// Wires the socket to stream `id`; resolves once the socket has fully closed.
export function pumpSocket(socket: Socket, id: number, ctx: RequestContext): { handlers: StreamHandlers; closed: Promise<void> } {
  const window = new FlowWindow(STREAM_WINDOW_BYTES);
  socket.on("data", (chunk: Buffer) => {
    ctx.sendData(id, chunk);
    if (window.sent(chunk.length)) socket.pause();
  });
  socket.on("end", () => ctx.send({ id, type: "end" }));
  socket.on("error", () => {}); // reported as the stream's close
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const handlers: StreamHandlers = {
    onData: (data) => {
      socket.write(data, () => ctx.send({ id, type: "ack", bytes: data.length }));
    },
    onEnd: () => {
      socket.end();
    },
    onAck: (bytes) => {
      window.acked(bytes);
      if (!window.full) socket.resume();
    },
  };
  return { handlers, closed };
}
