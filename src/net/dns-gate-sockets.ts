// Sockets of the daemon that live INSIDE a workspace's network namespace: the DNS gate's UDP
// socket and TCP listener on 10.0.2.3:53 (slirp's DNS address, which every workspace's
// /etc/resolv.conf names). Node cannot enter a namespace itself, so a short-lived node child
// started by nsenter binds them there and hands them over on its IPC channel (the fds cross
// with SCM_RIGHTS; a socket stays in the namespace it was made in), then exits: no process
// per workspace, and the daemon reads the workspace's queries on its own event loop. The
// address goes on the namespace's loopback, so queries never reach slirp (or, for a microVM
// whose NIC is forwarded through the namespace, are delivered to these sockets the same way).
import { spawn } from "node:child_process";
import type { Socket as UdpSocket } from "node:dgram";
import type { Server } from "node:net";
import { AgentisoError } from "../core/errors.js";
import { hostToolEnv } from "../core/host-env.js";
import { SLIRP } from "./egress-rules.js";
import { netnsPath, runInNetns } from "./netns.js";

export interface GateSockets {
  udp: UdpSocket;
  tcp: Server;
}

const OPEN_TIMEOUT_MS = 10_000;

// Binds both, exits once the daemon holds them (the send callback runs after the fds left).
const BINDER = `
const address = process.argv[1];
const udp = require("node:dgram").createSocket({ type: "udp4", reuseAddr: false });
udp.bind({ address, port: 53, exclusive: true }, () => {
  const tcp = require("node:net").createServer();
  tcp.listen({ host: address, port: 53, exclusive: true }, () =>
    process.send("udp", udp, undefined, () => process.send("tcp", tcp, undefined, () => process.exit(0))));
});
`;

// Puts the gate's address on the namespace's loopback and opens both sockets there.
export async function openGateSockets(netnsName: string): Promise<GateSockets> {
  await runInNetns(netnsName, ["ip", "address", "replace", `${SLIRP.dns}/32`, "dev", "lo"]);
  const argv = [`--net=${netnsPath(netnsName)}`, "--", process.execPath, "-e", BINDER, SLIRP.dns];
  const child = spawn("nsenter", argv, { stdio: ["ignore", "ignore", "pipe", "ipc"], env: hostToolEnv() });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const got: Partial<GateSockets> = {};
  return new Promise<GateSockets>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      got.udp?.close();
      got.tcp?.close();
      if (child.exitCode === null) child.kill("SIGKILL");
      reject(new AgentisoError("BACKEND_FAILED", `DNS gate sockets in ${netnsName} ${why}${stderr ? `: ${stderr.trim()}` : ""}`));
    };
    const timer = setTimeout(() => fail(`not opened within ${OPEN_TIMEOUT_MS} ms`), OPEN_TIMEOUT_MS);
    child.on("message", (kind: unknown, handle: unknown) => {
      if (kind === "udp") got.udp = handle as UdpSocket;
      if (kind === "tcp") got.tcp = handle as Server;
    });
    child.once("error", (err) => fail(`could not start nsenter: ${err.message}`));
    child.once("exit", (code) => {
      if (code !== 0 || !got.udp || !got.tcp) return fail(`binder exited with ${code}`);
      clearTimeout(timer);
      resolve({ udp: got.udp, tcp: got.tcp });
    });
  });
}

// Closes both and takes the address off the loopback (slirp's forwarder answers again). Idempotent.
export async function closeGateSockets(netnsName: string, sockets: GateSockets | undefined): Promise<void> {
  if (sockets) {
    sockets.udp.close();
    await new Promise<void>((resolve) => sockets.tcp.close(() => resolve()));
  }
  await runInNetns(netnsName, ["ip", "address", "del", `${SLIRP.dns}/32`, "dev", "lo"], { check: false });
}
