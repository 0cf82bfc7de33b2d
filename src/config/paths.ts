// Well-known files of a state dir, shared by the daemon that creates them and its clients.
import { join } from "node:path";

/** The state dir when neither --home nor AGENTISO_HOME names one. */
export const DEFAULT_HOME = "/var/lib/agentiso";

/** The daemon's control socket, in the state dir. */
export const CONTROL_SOCKET_FILE = "agentiso.sock";

export function controlSocketPath(config: { home: string }): string {
  return join(config.home, CONTROL_SOCKET_FILE);
}

export function daemonLogPath(config: { home: string }): string {
  return join(config.home, "daemon.log");
}
