// A tunnel stream as a Node Duplex, so host code can pipe it like a TCP socket. Writes wait
// for the agent's acks (bounded in-flight bytes); incoming data is acked only once the
// consumer reads it; destroying the socket sends `cancel`, which closes the guest socket.
import { Duplex } from "node:stream";
import type { AgentisoError } from "../core/errors.js";
import { tooLarge } from "../core/capped-bytes.js";
import { FlowWindow, STREAM_WINDOW_BYTES, type AgentMessage } from "../protocol/index.js";
import type { GuestConnection, Receiver } from "./guest-connection.js";
import { MAX_QUEUED_BYTES } from "./request-stream.js";
import { abortedError, fromWireError } from "./wire-errors.js";

// Asks the agent to connect to host:port in the guest; resolves with the tunnel as a Duplex
// once the agent reports tunnel_ready (host → guest tunnel).
export async function openTunnel(connection: GuestConnection, port: number, how: { host?: string }, signal: AbortSignal): Promise<Duplex> {
  const id = connection.nextId();
  const socket = createTunnelSocket(connection, id);
  connection.send({ id, type: "tunnel_open", port, ...how });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => (socket.destroy(), reject(abortedError(signal, `tunnel to guest port ${port}`)));
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("tunnel_ready", () => (signal.removeEventListener("abort", onAbort), resolve()));
    socket.once("error", (err) => (signal.removeEventListener("abort", onAbort), reject(err)));
  });
  return socket;
}

// Creates the Duplex for stream `id` and registers it to receive that stream's messages.
// It emits "tunnel_ready" (port) when the agent has connected a tunnel_open.
export function createTunnelSocket(connection: GuestConnection, id: number): Duplex {
  const window = new FlowWindow(STREAM_WINDOW_BYTES);
  let unacked = 0;
  let remoteClosed = false;
  const socket = new Duplex({
    allowHalfOpen: true,
    read() {
      if (unacked > 0) connection.send({ id, type: "ack", bytes: unacked });
      unacked = 0;
    },
    write(chunk: Buffer, _encoding, callback) {
      void window.room().then(() => {
        if (remoteClosed) return callback(new Error("tunnel closed by the guest"));
        connection.sendData(id, chunk);
        window.sent(chunk.length);
        callback();
      });
    },
    final(callback) {
      if (!remoteClosed) connection.send({ id, type: "end" });
      callback();
    },
    destroy(err, callback) {
      connection.unregister(id);
      window.release();
      if (!remoteClosed) connection.send({ id, type: "cancel" });
      remoteClosed = true;
      callback(err);
    },
  });
  const receiver: Receiver = {
    onMessage: (message: AgentMessage) => {
      if (message.type === "data") {
        const data = Buffer.from(message.data, "base64");
        if (socket.push(data)) connection.send({ id, type: "ack", bytes: data.length });
        else unacked += data.length;
        // an agent that ignores the window would grow the socket's buffer without end
        if (unacked > MAX_QUEUED_BYTES) socket.destroy(tooLarge({ what: "data the agent sent into a tunnel without acks", maxBytes: MAX_QUEUED_BYTES }));
      } else if (message.type === "tunnel_ready") {
        socket.emit("tunnel_ready", message.port);
      } else if (message.type === "ack") {
        window.acked(message.bytes);
      } else if (message.type === "end") {
        socket.push(null);
      } else if (message.type === "done") {
        remoteClosed = true;
        window.release();
        socket.push(null);
        if (!socket.writableEnded) socket.end();
      } else if (message.type === "error") {
        remoteClosed = true;
        socket.destroy(fromWireError(message, "tunnel"));
      }
    },
    onClose: (error: AgentisoError) => {
      remoteClosed = true;
      socket.destroy(error);
    },
  };
  connection.register(id, receiver);
  return socket;
}
