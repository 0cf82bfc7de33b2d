// Where the agent accepts byte streams: a unix socket (containers), a virtio-serial port
// (one stream; reopened when the host side goes away), or AF_VSOCK through socat (Node has
// no AF_VSOCK sockets: `socat` >= 1.7.4 in the guest and a vsock transport in the kernel).
import { spawn } from "node:child_process";
import { close, createReadStream, createWriteStream, open } from "node:fs";
import { chmod, unlink } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { Duplex } from "node:stream";
import type { GuestAgent } from "./guest-agent.js";

/** How long the agent waits before reopening its virtio-serial port after the host left. */
const DEVICE_RETRY_MS = 50;

export interface Listener {
  close(): Promise<void>;
}

// Listens on a unix socket path (replacing a stale socket file) and serves every connection.
export async function listenUnix(agent: GuestAgent, path: string): Promise<Listener> {
  await unlink(path).catch(() => {});
  const server: Server = createServer((socket) => agent.serve(socket));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// Serves a character device (virtio-serial port) as one stream, reopening it after EOF (the
// host side went away). The port may be open only once at a time (a second open() is EBUSY),
// so reads and writes share one descriptor. While no host is connected, reads return EOF at
// once: the retry delay bounds that loop and is the longest a new host connection waits.
export async function listenDevice(agent: GuestAgent, path: string): Promise<Listener> {
  let stopped = false;
  let current: Duplex | undefined;
  // The port is the agent's only listener: the process must not end between two sessions
  // (an empty event loop would exit 0, and the VM would power off).
  const keepAlive = setInterval(() => {}, 1 << 30);
  const retry = () => {
    if (!stopped) setTimeout(serveOnce, DEVICE_RETRY_MS);
  };
  const serveOnce = () => {
    if (stopped) return;
    open(path, "r+", (err, fd) => {
      if (err) return retry();
      const input = createReadStream("", { fd, highWaterMark: 1024 * 1024, autoClose: false });
      const output = createWriteStream("", { fd, autoClose: false });
      current = Duplex.from({ readable: input, writable: output });
      current.on("error", () => {});
      void agent.serve(current).done.then(() => {
        close(fd, () => retry());
      });
    });
  };
  serveOnce();
  return {
    close: async () => {
      stopped = true;
      clearInterval(keepAlive);
      current?.destroy();
    },
  };
}

// Bridges AF_VSOCK port → an internal unix socket with socat (one process per connection).
export async function listenVsock(agent: GuestAgent, port: number, bridgePath: string): Promise<Listener> {
  const unix = await listenUnix(agent, bridgePath);
  const socat = spawn("socat", [`VSOCK-LISTEN:${port},reuseaddr,fork`, `UNIX-CONNECT:${bridgePath}`], { stdio: "ignore" });
  await new Promise<void>((resolve, reject) => {
    socat.once("spawn", resolve);
    socat.once("error", (err) => reject(new Error(`--vsock needs socat >= 1.7.4 in the guest: ${err.message}`)));
  });
  return {
    close: async () => {
      socat.kill("SIGTERM");
      await unix.close();
    },
  };
}
