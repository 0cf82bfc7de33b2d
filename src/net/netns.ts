// Named network namespaces (/run/netns/<name>, the `ip netns` convention). The runtime names
// a workspace's namespace with its tagged id so slirp4netns, nft and reconcile can find it.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { commandFailed, runCommand } from "../core/run-command.js";
import { assertValidName } from "../core/names.js";

export const NETNS_DIR = "/run/netns";

// The nsfs file of a named namespace (validated name: it becomes an argv word and a path).
export function netnsPath(name: string): string {
  return join(NETNS_DIR, assertValidName(name, "network namespace name"));
}

// Names the network namespace of a running process (e.g. a workspace's init).
export async function attachNetns(name: string, pid: number): Promise<void> {
  await runCommand(["ip", "netns", "attach", assertValidName(name, "network namespace name"), String(pid)], { timeoutMs: 10_000 });
}

// Creates a named namespace of its own (a VM's QEMU runs in it) with loopback up; idempotent.
export async function createNetns(name: string): Promise<void> {
  const valid = assertValidName(name, "network namespace name");
  const added = await runCommand(["ip", "netns", "add", valid], { check: false, timeoutMs: 10_000 });
  if (added.exitCode !== 0 && !/exists/i.test(added.stderr)) throw commandFailed(["ip", "netns", "add", valid], added);
  await runCommand(["ip", "-n", valid, "link", "set", "lo", "up"], { timeoutMs: 10_000 });
}

// True when a namespace of that name exists.
export async function netnsExists(name: string): Promise<boolean> {
  return stat(netnsPath(name)).then(() => true, () => false);
}

// Removes the name; the namespace itself disappears with its last process. Idempotent.
export async function deleteNetns(name: string): Promise<void> {
  const result = await runCommand(["ip", "netns", "delete", assertValidName(name, "network namespace name")], { check: false, timeoutMs: 10_000 });
  if (result.exitCode !== 0 && !/No such file|not exist/i.test(result.stderr)) throw commandFailed(["ip", "netns", "delete", name], result);
}

// Named namespaces that satisfy `owns` (this engine's, for reconcile).
export async function listNetns(owns: (name: string) => boolean): Promise<string[]> {
  const names = await readdir(NETNS_DIR).catch(() => [] as string[]);
  return names.filter(owns);
}

// Runs argv inside the named namespace (nsenter: lighter than `ip netns exec`, which remounts /sys).
export function runInNetns(name: string, argv: readonly string[], options: { input?: string; check?: boolean } = {}) {
  return runCommand(["nsenter", `--net=${netnsPath(name)}`, "--", ...argv], { timeoutMs: 10_000, ...options });
}
