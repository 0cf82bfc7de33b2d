// The environment an auto-started daemon gets: what host tools need (host-env.ts), the state
// dir, and the AGENTISO_* settings its configuration reads — nothing else. The CLI that starts
// it may hold model keys (`agentiso orchestrate` reads one and sends it over the control
// socket); a daemon started with the CLI's whole environment would keep the key in its
// /proc/PID/environ, and pass it to every slirp4netns, QEMU and runc it starts, long after.
import { HOST_TOOL_ENV_VARS } from "../core/host-env.js";

/**
 * The variables loadConfig reads (config/config.ts; a unit test keeps the lists equal). The
 * MCP bearer token is one: it is the daemon's own credential, and no child process gets it.
 */
export const DAEMON_CONFIG_ENV_VARS = [
  "AGENTISO_STORAGE",
  "AGENTISO_POOL_SIZE",
  "AGENTISO_ZFS_DATASET",
  "AGENTISO_RUNTIME",
  "AGENTISO_AGENT_NODE",
  "AGENTISO_OCI_RUNTIME",
  "AGENTISO_ALLOWED_BASE_URLS",
  "AGENTISO_VM_ACCEL",
  "AGENTISO_VM_TEMPLATES",
  "AGENTISO_VM_WARM_POOL",
  "AGENTISO_IMAGE_CACHE",
  "AGENTISO_METRICS_LISTEN",
  "AGENTISO_MCP_LISTEN",
  "AGENTISO_DASHBOARD_LISTEN",
  "AGENTISO_MCP_TOKEN",
  "AGENTISO_LOG_LEVEL",
] as const;

/** For the daemon's own node: trust the operator's extra CA certificates (the LLM proxy's upstream). */
const NODE_VARS = ["NODE_EXTRA_CA_CERTS"] as const;

// The daemon's environment, picked from the CLI's.
export function daemonEnvironment(env: NodeJS.ProcessEnv, home: string): NodeJS.ProcessEnv {
  const picked: NodeJS.ProcessEnv = { AGENTISO_HOME: home };
  for (const name of [...HOST_TOOL_ENV_VARS, ...DAEMON_CONFIG_ENV_VARS, ...NODE_VARS]) if (env[name] !== undefined) picked[name] = env[name];
  return picked;
}
