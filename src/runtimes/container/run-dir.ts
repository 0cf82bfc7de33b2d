// The layout of a workspace's run directory (given by the engine, owned by the runtime):
// the OCI bundle, the agent's socket directory, logs, and the small /etc files bind-mounted in.
import { chown, chmod, link, lstat, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../../core/errors.js";
import { SLIRP } from "../../net/egress-rules.js";
import { hostsFileText } from "./hostname.js";

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export interface RunDirPaths {
  bundle: string;
  config: string;
  agentDir: string;
  /** Where the agent binds (in the directory the workspace can write). */
  socket: string;
  /** The host's hard link to the agent's socket, in the root-only run dir: the endpoint. */
  endpoint: string;
  consoleLog: string;
  slirpLog: string;
  hosts: string;
  resolvConf: string;
}

// Every path the runtime uses inside a run dir, derived (never stored) so adopt needs only the dir.
export function runDirPaths(runDir: string): RunDirPaths {
  return {
    bundle: runDir,
    config: join(runDir, "config.json"),
    agentDir: join(runDir, "agent"),
    socket: join(runDir, "agent", "agent.sock"),
    endpoint: join(runDir, "agent.sock"),
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
  await chmod(runDir, 0o700); // the engine may have created it 0755: the endpoint inside is root's alone
  await rotateLog(paths.consoleLog);
  await rm(paths.agentDir, { recursive: true, force: true });
  await rm(paths.endpoint, { force: true });
  await mkdir(paths.agentDir, { mode: 0o700 });
  await chown(paths.agentDir, shiftedRoot, shiftedRoot);
  await chmod(paths.agentDir, 0o700);
  await writeFile(paths.hosts, hostsFileText(hostname), { mode: 0o644 });
  // slirp's DNS forwarder; unreachable (and harmless) in `none` mode
  await writeFile(paths.resolvConf, `nameserver ${SLIRP.dns}\n`, { mode: 0o644 });
  return paths;
}

/** console.log is appended to across restarts; past this size the previous one is kept as console.log.1. */
const MAX_LOG_BYTES = 8 * 1024 * 1024;

async function rotateLog(path: string): Promise<void> {
  const size = await stat(path).then((st) => st.size, () => 0);
  if (size > MAX_LOG_BYTES) await rename(path, `${path}.1`);
}

// The agent's socket dir is writable from inside, so the workspace could swap agent.sock for a
// symlink to any host socket. The host therefore connects through a hard link in the root-only
// run dir, made once right after the agent bound (before any workspace code runs) and checked
// to be a socket owned by the shifted root: link() does not follow symlinks, lstat() sees the result.
export async function linkEndpoint(paths: RunDirPaths, shiftedRoot: number): Promise<void> {
  await rm(paths.endpoint, { force: true });
  await link(paths.socket, paths.endpoint);
  await assertEndpoint(paths.endpoint, shiftedRoot);
}

// Throws unless path is a unix socket owned by the workspace's root.
export async function assertEndpoint(path: string, shiftedRoot: number): Promise<void> {
  const st = await lstat(path);
  if (!st.isSocket() || st.uid !== shiftedRoot) {
    throw new AgentisoError("GUEST_UNREACHABLE", `agent endpoint ${path} is not a socket of the workspace (uid ${st.uid}, mode ${st.mode.toString(8)})`);
  }
}
