// Where the agent accepts byte streams: a unix socket (containers), a virtio-serial port
// (one stream; reopened when the host side goes away), or AF_VSOCK through socat (Node has
// no AF_VSOCK sockets: `socat` >= 1.7.4 in the guest and a vsock transport in the kernel).
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, unlink } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { Duplex } from "node:stream";
import type { GuestAgent } from "./guest-agent.js";

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

// Serves a character device (virtio-serial port) as one stream, reopening it after EOF.
export async function listenDevice(agent: GuestAgent, path: string): Promise<Listener> {
  let stopped = false;
  let current: Duplex | undefined;
  const serveOnce = () => {
    if (stopped) return;
    const input = createReadStream(path, { highWaterMark: 1024 * 1024 });
    const output = createWriteStream(path, { flags: "r+" });
    current = Duplex.from({ readable: input, writable: output });
    current.on("error", () => {});
    void agent.serve(current).done.then(() => setTimeout(serveOnce, 100));
  };
  serveOnce();
  return {
    close: async () => {
      stopped = true;
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
