// Well-known files of a state dir, shared by the daemon that creates them and its clients.
import { join } from "node:path";
import type { Config } from "./config.js";

export function controlSocketPath(config: Config): string {
  return join(config.home, "agentiso.sock");
}

export function daemonLogPath(config: Config): string {
  return join(config.home, "daemon.log");
}
