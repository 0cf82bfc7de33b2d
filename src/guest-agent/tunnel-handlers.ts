// Tunnels. tunnel_open: host → a guest TCP port, carried on the request's id.
// tunnel_listen: a guest loopback listener whose every connection becomes a new stream
// (negative id) announced with tunnel_accept — the basis of the keyless LLM proxy.
import { connect, createServer, type Socket } from "node:net";
import type { RequestOf } from "../protocol/index.js";
import type { HandlerReply, RequestContext } from "./request-context.js";
import { pumpSocket } from "./stream-pump.js";

const CONNECT_TIMEOUT_MS = 10_000;

// Connects to host:port in the guest; answers tunnel_ready, then pumps until the socket closes.
export async function handleTunnelOpen(request: RequestOf<"tunnel_open">, ctx: RequestContext): Promise<HandlerReply<"tunnel_open">> {
  const socket = connect({ host: request.host ?? "127.0.0.1", port: request.port, timeout: CONNECT_TIMEOUT_MS });
  const destroy = () => socket.destroy();
  ctx.signal.addEventListener("abort", destroy, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => (socket.setTimeout(0), resolve()));
      socket.once("error", reject);
      socket.once("timeout", () => reject(Object.assign(new Error(`connect to port ${request.port} timed out`), { code: "ETIMEDOUT" })));
      socket.once("close", () => reject(new Error("socket closed before connecting")));
    });
    const { handlers, closed } = pumpSocket(socket, ctx.id, ctx);
    ctx.onStream(handlers);
    ctx.send({ id: ctx.id, type: "tunnel_ready", port: request.port });
    await closed;
    ctx.signal.throwIfAborted();
    return undefined;
  } finally {
    ctx.signal.removeEventListener("abort", destroy);
    socket.destroy();
  }
}

// Listens on 127.0.0.1:port until cancelled; each connection is its own stream.
export async function handleTunnelListen(request: RequestOf<"tunnel_listen">, ctx: RequestContext): Promise<HandlerReply<"tunnel_listen">> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => acceptConnection(socket, ctx, sockets));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: request.port }, () => resolve());
  });
  const address = server.address();
  ctx.send({ id: ctx.id, type: "tunnel_ready", port: typeof address === "object" && address ? address.port : request.port });
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  server.close();
  for (const socket of sockets) socket.destroy();
  return undefined;
}

function acceptConnection(socket: Socket, ctx: RequestContext, sockets: Set<Socket>): void {
  sockets.add(socket);
  const stream = ctx.openStream(() => socket.destroy());
  const streamId = stream.id;
  const { handlers, closed } = pumpSocket(socket, streamId, ctx);
  stream.route(handlers);
  ctx.send({ id: streamId, type: "tunnel_accept", listenId: ctx.id, remotePort: socket.remotePort ?? 0 });
  void closed.then(() => {
    sockets.delete(socket);
    ctx.closeStream(streamId);
    ctx.send({ id: streamId, type: "done" });
  });
}
