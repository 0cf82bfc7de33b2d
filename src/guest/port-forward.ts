// Guest → host tunnels: the agent listens on a guest loopback port and announces each
// accepted connection (tunnel_accept, a new negative stream id); the host gets each as a
// Duplex. This carries the keyless LLM proxy: opencode in the workspace talks to
// http://127.0.0.1:PORT and the host pipes each connection to its local proxy.
import type { AgentisoError } from "../core/errors.js";
import type { AgentMessage } from "../protocol/index.js";
import type { ConnectionHandler, GuestPortForward } from "./client-types.js";
import type { GuestConnection } from "./guest-connection.js";
import { createTunnelSocket } from "./tunnel-socket.js";
import { abortedError, fromWireError } from "./wire-errors.js";

/** Connections one forwarded guest port may have open at once (each is a host socket). */
export const MAX_OPEN_TUNNELS = 256;

// Sends tunnel_listen and resolves once the guest port is listening.
export function listenGuestPort(connection: GuestConnection, guestPort: number, onConnection: ConnectionHandler, signal: AbortSignal): Promise<GuestPortForward> {
  const id = connection.nextId();
  let open = 0;
  let closedResolve!: () => void;
  const closed = new Promise<void>((resolve) => (closedResolve = resolve));
  const close = async () => {
    connection.send({ id, type: "cancel" });
    await closed;
  };
  return new Promise((resolve, reject) => {
    const onAbort = () => (connection.send({ id, type: "cancel" }), connection.unregister(id), reject(abortedError(signal, `listen on guest port ${guestPort}`)));
    signal.addEventListener("abort", onAbort, { once: true });
    connection.register(id, {
      onMessage: (message: AgentMessage) => {
        if (message.type === "tunnel_ready") {
          signal.removeEventListener("abort", onAbort);
          resolve({ port: message.port, close, [Symbol.asyncDispose]: close });
        } else if (message.type === "tunnel_accept") {
          // the agent announces connections as it likes: past MAX_OPEN_TUNNELS at once they are refused
          if (open >= MAX_OPEN_TUNNELS) return connection.send({ id: message.id, type: "cancel" });
          const socket = createTunnelSocket(connection, message.id);
          open += 1;
          socket.once("close", () => (open -= 1));
          onConnection(socket);
        } else if (message.type === "done" || message.type === "error") {
          connection.unregister(id);
          signal.removeEventListener("abort", onAbort);
          closedResolve();
          if (message.type === "error") reject(fromWireError(message, `listen on guest port ${guestPort}`));
        }
      },
      onClose: (error: AgentisoError) => {
        signal.removeEventListener("abort", onAbort);
        closedResolve();
        reject(error);
      },
    });
    connection.send({ id, type: "tunnel_listen", port: guestPort });
  });
}
