// What a domain service is handed by its caller (an operation, the orchestrator), explicitly:
// no operation context, so the orchestrator and the front doors call it alike.
import type { HostPaths } from "../core/host-paths.js";
import type { Logger } from "../core/logger.js";
import type { Engine } from "../engine/engine.js";
import type { GuestClient } from "../guest/guest-client.js";

export interface WorkspaceDeps {
  engine: Engine<GuestClient>;
  /** How host paths the caller names are read: anywhere for the host's root, confined for an MCP session. */
  hostPaths: HostPaths;
  logger: Logger;
  signal: AbortSignal;
  /** The MCP session that owns what is created; unset for the host's root. */
  owner?: string;
}
