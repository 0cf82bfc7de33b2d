// slirp4netns: user-mode NAT from a workspace's network namespace to the outside world. It is
// a long-lived daemon that must outlive an engine restart, so it is spawned detached here
// (not through runCommand, which waits for exit) and found again by its argv, which holds
// the tagged namespace path — no pid file to go stale.
import { spawn } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { AgentisoError } from "../core/errors.js";
import { hostToolEnv } from "../core/host-env.js";
import { netnsPath } from "./netns.js";

const READY_TIMEOUT_MS = 10_000;

// Starts slirp4netns for the namespace and resolves once it has configured tap0 (its ready fd).
export async function startSlirp(netnsName: string, logPath: string): Promise<number> {
  const args = [
    "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox", "--enable-seccomp",
    "--ready-fd=3", "--netns-type=path", netnsPath(netnsName), "tap0",
  ];
  const log = openSync(logPath, "a");
  try {
    // In a private mount namespace: slirp's --enable-sandbox unmounts things, and through the
    // shared /run/netns propagation that removed the namespace's name from the host.
    const argv = ["--mount", "--propagation", "private", "--", "slirp4netns", ...args];
    const child = spawn("unshare", argv, { detached: true, stdio: ["ignore", log, log, "pipe"], env: hostToolEnv() });
    const ready = child.stdio[3] as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new AgentisoError("BACKEND_FAILED", `slirp4netns for ${netnsName} ${why} (see ${logPath})`));
      };
      const timer = setTimeout(() => fail(`was not ready within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
      ready.once("data", () => {
        clearTimeout(timer);
        resolve();
      });
      child.once("error", (err) => fail(`failed to start: ${err.message}`));
      child.once("exit", (code) => fail(`exited with ${code}`));
    });
    child.removeAllListeners("exit");
    (ready as unknown as { destroy(): void }).destroy();
    child.unref();
    if (child.pid === undefined) throw new AgentisoError("BACKEND_FAILED", "slirp4netns has no pid");
    return child.pid;
  } finally {
    closeSync(log);
  }
}

// Pids of slirp4netns processes serving this namespace (normally zero or one).
export async function findSlirp(netnsName: string): Promise<number[]> {
  const marker = netnsPath(netnsName);
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    const words = argv.split("\0");
    if (words[0]?.endsWith("slirp4netns") && words.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

// Stops every slirp4netns of the namespace and waits until they are gone. Idempotent.
export async function stopSlirp(netnsName: string): Promise<void> {
  for (const pid of await findSlirp(netnsName)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already exited
    }
    await waitGone(pid);
  }
}

async function waitGone(pid: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    // gone, or a zombie (dead, waiting for a parent that is not us to reap it)
    if (!stat || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new AgentisoError("BACKEND_FAILED", `slirp4netns ${pid} did not exit after SIGKILL`);
}
