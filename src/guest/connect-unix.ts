// The connect function runtimes pass to GuestClient: a unix socket the agent listens on.
import { connect } from "node:net";
import type { Duplex } from "node:stream";

// Returns a function that opens a new connection to the socket path each time it is called.
export function connectUnix(path: string): () => Promise<Duplex> {
  return () =>
    new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once("connect", () => (socket.off("error", reject), resolve(socket)));
      socket.once("error", reject);
    });
}
