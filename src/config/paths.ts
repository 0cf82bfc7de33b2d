// Well-known files of a state dir, shared by the daemon that creates them and its clients.
import { join } from "node:path";
import type { Config } from "./config.js";

/** The daemon's control socket, in the state dir. */
export const CONTROL_SOCKET_FILE = "agentiso.sock";

export function controlSocketPath(config: Config): string {
  return join(config.home, CONTROL_SOCKET_FILE);
}

export function daemonLogPath(config: Config): string {
  return join(config.home, "daemon.log");
}
