// The layout of a workspace's run directory (given by the engine, owned by the runtime):
// the OCI bundle, the agent's socket directory, logs, and the small /etc files bind-mounted in.
import { chown, chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../../core/errors.js";
import { SLIRP } from "../../net/egress-rules.js";

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export interface RunDirPaths {
  bundle: string;
  config: string;
  agentDir: string;
  socket: string;
  consoleLog: string;
  slirpLog: string;
  hosts: string;
  resolvConf: string;
}

export function runDirPaths(runDir: string): RunDirPaths {
  return {
    bundle: runDir,
    config: join(runDir, "config.json"),
    agentDir: join(runDir, "agent"),
    socket: join(runDir, "agent", "agent.sock"),
    consoleLog: join(runDir, "console.log"),
    slirpLog: join(runDir, "slirp.log"),
    hosts: join(runDir, "etc-hosts"),
    resolvConf: join(runDir, "etc-resolv.conf"),
  };
}

// Creates the directory for a fresh start; the agent's socket dir is owned by the workspace's root (shifted uid) or the agent could not bind there.
export async function prepareRunDir(runDir: string, hostname: string, shiftedRoot: number): Promise<RunDirPaths> {
  const paths = runDirPaths(runDir);
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
    throw new AgentisoError("INVALID_INPUT", `run dir ${runDir} is too long for a unix socket path (${paths.socket}): use a shorter state dir`);
  }
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  await rm(paths.agentDir, { recursive: true, force: true });
  await mkdir(paths.agentDir, { mode: 0o700 });
  await chown(paths.agentDir, shiftedRoot, shiftedRoot);
  await chmod(paths.agentDir, 0o700);
  await writeFile(paths.hosts, `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`, { mode: 0o644 });
  // slirp's DNS forwarder; unreachable (and harmless) in `none` mode
  await writeFile(paths.resolvConf, `nameserver ${SLIRP.dns}\n`, { mode: 0o644 });
  return paths;
}
