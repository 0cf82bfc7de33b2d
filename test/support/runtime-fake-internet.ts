// A "fake internet" for egress tests: a network namespace joined to the host by a veth pair,
// on a random /24 of the benchmark range 198.18.0.0/15 (never a real outside address), with
// an HTTP server inside on .1:8080. The host side gets .254, so the host routes the /24 through
// the veth and slirp4netns (which uses the host's routing table) can reach it. Given a private
// subnet instead (privateSubnet()), the same thing is a host "on the LAN" around the machine:
// one the test owns, so egress tests never send a packet to anyone else's.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { runCommand } from "../../src/core/run-command.js";

const SERVER_SOURCE = `
const http = require("node:http");
const server = http.createServer((req, res) => res.end("hello from the fake internet\\n"));
server.listen(8080, process.argv[1], () => process.stdout.write("ready\\n"));
process.on("SIGTERM", () => process.exit(0));
`;

export interface FakeInternet {
  /** The server's address, e.g. 198.18.37.1 */
  address: string;
  url: string;
  /** The host's own address on the veth (a host address: egress must NOT reach it). */
  hostAddress: string;
  /** Its network namespace (fake-dns.ts runs a server there). */
  netns: string;
  /** More addresses of the namespace (extraAddresses), .2, .3, ...: the server answers on them too when it listens on 0.0.0.0. */
  extraAddresses: string[];
  close(): Promise<void>;
}

// A random 10.x.y or 192.168.y /24 (its first three octets) that no route of the host overlaps.
export async function privateSubnet(): Promise<string> {
  const routes = JSON.parse((await runCommand(["ip", "-j", "-4", "route", "show", "table", "all"])).stdout) as Array<{ dst: string }>;
  const taken = routes.map((r) => r.dst).filter((dst) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst));
  for (let attempt = 0; attempt < 50; attempt++) {
    const subnet = attempt % 2 === 0 ? `10.${randomInt(64, 250)}.${randomInt(0, 256)}` : `192.168.${randomInt(64, 250)}`;
    if (!taken.some((dst) => overlaps(`${subnet}.0/24`, dst))) return subnet;
  }
  throw new Error("no free private /24 on this host for a test network");
}

function overlaps(a: string, b: string): boolean {
  const parse = (cidr: string): [number, number] => {
    const [address, bits = "32"] = cidr.split("/");
    return [address!.split(".").reduce((n, octet) => n * 256 + Number(octet), 0), Number(bits)];
  };
  const [[x, xBits], [y, yBits]] = [parse(a), parse(b)];
  const bits = Math.min(xBits, yBits);
  const mask = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits);
  return (x & mask) >>> 0 === (y & mask) >>> 0;
}

export interface FakeInternetOptions {
  /** The first three octets of the /24 (default: a random one of 198.18.0.0/15). */
  subnet?: string;
  /** Node source of the server inside (default: HTTP hello on :8080); gets the address, then serverArgs, and must print one line once it listens. */
  serverSource?: string;
  serverArgs?: string[];
  /** How many more addresses the namespace gets (.2 and up); default none. */
  extraAddresses?: number;
}

// Creates the namespace, veth pair, addresses and server; close() removes all of it.
export async function startFakeInternet(options: FakeInternetOptions = {}): Promise<FakeInternet> {
  const suffix = randomBytes(3).toString("hex");
  const netns = `aisfi-${suffix}`;
  const [hostIf, nsIf] = [`fih${suffix}`, `fin${suffix}`];
  const subnet = options.subnet ?? `198.${randomInt(18, 20)}.${randomInt(0, 256)}`;
  const [address, hostAddress] = [`${subnet}.1`, `${subnet}.254`];
  let server: ChildProcess | undefined;
  const close = async () => {
    if (server?.pid && server.exitCode === null) {
      server.kill("SIGKILL");
      await new Promise((resolve) => server!.once("exit", resolve));
    }
    await runCommand(["ip", "link", "del", hostIf], { check: false });
    await runCommand(["ip", "netns", "del", netns], { check: false });
  };
  try {
    await runCommand(["ip", "netns", "add", netns]);
    const hostBatch = [`link add ${hostIf} type veth peer name ${nsIf} netns ${netns}`, `addr add ${hostAddress}/24 dev ${hostIf}`, `link set ${hostIf} up`];
    const extraAddresses = Array.from({ length: options.extraAddresses ?? 0 }, (_, i) => `${subnet}.${i + 2}`);
    const nsBatch = [`addr add ${address}/24 dev ${nsIf}`, ...extraAddresses.map((extra) => `addr add ${extra}/24 dev ${nsIf}`), `link set ${nsIf} up`, "link set lo up"];
    await runCommand(["ip", "-batch", "-"], { input: hostBatch.join("\n") + "\n" });
    await runCommand(["ip", "-n", netns, "-batch", "-"], { input: nsBatch.join("\n") + "\n" });
    const source = options.serverSource ?? SERVER_SOURCE;
    // nsenter --net, not `ip netns exec`: that one also makes a mount namespace, a copy of every
    // mount of the moment, and this host's / is private, so the copy would keep the btrfs pool of
    // any test running beside this one mounted (its loop device busy) until the server exits.
    server = spawn("nsenter", [`--net=/run/netns/${netns}`, "--", process.execPath, "-e", source, address, ...(options.serverArgs ?? [])], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      server!.stdout!.once("data", () => resolve());
      server!.once("exit", (code) => reject(new Error(`fake internet server exited with ${code}`)));
    });
    server.removeAllListeners("exit");
    return { address, url: `http://${address}:8080/`, hostAddress, netns, extraAddresses, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface HostServer {
  port: number;
  close(): Promise<void>;
}

// An HTTP server on the host itself (127.0.0.1 or 0.0.0.0): what a workspace must never reach.
export async function startHostServer(host: string): Promise<HostServer> {
  const server: Server = createServer((_req, res) => res.end("host secret\n"));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
