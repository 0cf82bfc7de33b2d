// A workspace's name as the hostname its guest gets: at start (the OCI spec and /etc/hosts) and,
// for a running container handed out under a new name (the warm pool), set from the host.
import { readFile, readlink, writeFile } from "node:fs/promises";
import { AgentisoError } from "../../core/errors.js";
import { runCommand } from "../../core/run-command.js";

// Workspace names may hold "_" and "." which hostnames may not: map them, keep 63 characters.
export function toHostname(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 63).replace(/^-+|-+$/g, "");
  return cleaned || "workspace";
}

/** The workspace's /etc/hosts (bind-mounted read-only from its run dir). */
export function hostsFileText(hostname: string): string {
  return `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
}

// Renames a running container from the host, since the workspace has no CAP_SYS_ADMIN to do it:
// its UTS namespace through nsenter, and its /etc/hosts rewritten in place (the bind mount keeps
// the inode). `pid` is checked to still be the container's (in its cgroup, another UTS
// namespace than the daemon's): a pid reused by a host process must not rename the host.
export async function setLiveHostname(pid: number, cgroupName: string, hostsFile: string, hostname: string, signal?: AbortSignal): Promise<void> {
  const [own, theirs, cgroups] = await Promise.all([readlink("/proc/self/ns/uts"), readlink(`/proc/${pid}/ns/uts`).catch(() => ""), readFile(`/proc/${pid}/cgroup`, "utf8").catch(() => "")]);
  if (theirs === "" || theirs === own || !cgroups.includes(`/${cgroupName}`)) {
    throw new AgentisoError("INVALID_STATE", `process ${pid} is not the init of workspace container ${cgroupName}: cannot rename it`);
  }
  await Promise.all([runCommand(["nsenter", `--target=${pid}`, "--uts", "hostname", hostname], { timeoutMs: 10_000, ...(signal && { signal }) }), writeFile(hostsFile, hostsFileText(hostname))]);
}
