// The layout of a VM workspace's run directory (given by the engine, owned by the runtime).
// Derived, never stored, so adopt() after a daemon restart needs only the directory.
import { join } from "node:path";
import { AgentisoError } from "../../core/errors.js";

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export interface VmPaths {
  runDir: string;
  /** The virtio-serial port's host end: the agent endpoint (QEMU is the server). */
  agentSocket: string;
  qmpSocket: string;
  consoleLog: string;
  /** QEMU's own stderr (start-up errors); the guest's console is consoleLog. */
  qemuLog: string;
  pidFile: string;
  /** slirp4netns' output (egress mode). */
  slirpLog: string;
  /** The QEMU argv of the running instance, for `agentiso workspace logs` readers and debugging. */
  launchFile: string;
}

// Every path of a run dir; refuses dirs whose sockets would not fit in sun_path.
export function vmPaths(runDir: string): VmPaths {
  const paths = {
    runDir,
    agentSocket: join(runDir, "agent.sock"),
    qmpSocket: join(runDir, "qmp.sock"),
    consoleLog: join(runDir, "console.log"),
    qemuLog: join(runDir, "qemu.log"),
    pidFile: join(runDir, "qemu.pid"),
    slirpLog: join(runDir, "slirp.log"),
    launchFile: join(runDir, "qemu-argv.json"),
  };
  if (Buffer.byteLength(paths.agentSocket) > MAX_SOCKET_PATH) {
    throw new AgentisoError("INVALID_INPUT", `run dir ${runDir} is too long for a unix socket path (max ${MAX_SOCKET_PATH} bytes): use a shorter AGENTISO_HOME`);
  }
  return paths;
}
