// The agent's state shared by all connections: the set_env overlay (memory only — API keys
// pass through here and are never written anywhere), background jobs, and the hooks that
// touch the machine (hostname, clock, entropy, shutdown) so unit tests can run the agent in-process.
import type { Duplex } from "node:stream";
import { AgentConnection } from "./agent-connection.js";
import { silentAgentLog, type AgentLog } from "./agent-log.js";
import { MAX_ENTROPY_BYTES, type GuestTrust } from "../protocol/index.js";
import { applyTrust, type TrustPaths } from "./workspace-trust.js";
import { JobRegistry } from "./job-registry.js";
import type { AgentServices } from "./request-context.js";
import { WireError } from "./wire-error.js";

export interface GuestAgentOptions {
  log?: AgentLog;
  /** Environment every command starts from; default the agent's own. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Applies `configure {hostname}`; default writes /proc/sys/kernel/hostname. */
  setHostname?: (hostname: string) => Promise<void>;
  /** Applies `configure {clockEpochMs}`; main.ts runs `date -u -s`. */
  setClock?: (epochMs: number) => Promise<void>;
  /** Applies `configure {entropy}`; main.ts writes /dev/urandom. */
  addEntropy?: (bytes: Buffer) => Promise<void>;
  /** Called once the `shutdown` reply is flushed; main.ts exits the process. */
  onShutdown?: () => void;
  /** Where `configure {trust}` writes CA certificates; default the system's (tests point it elsewhere). */
  trustPaths?: TrustPaths;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One per agent process; serves any number of connections. */
export class GuestAgent implements AgentServices {
  readonly jobs = new JobRegistry();
  readonly log: AgentLog;
  private readonly envOverlay = new Map<string, string>();
  /** Variables from `configure {trust}` (CA bundles, proxies): under set_env's, which may override them. */
  private trustEnv: Record<string, string> = {};
  private readonly connections = new Set<AgentConnection>();
  private readonly baseEnv: NodeJS.ProcessEnv;

  constructor(private readonly options: GuestAgentOptions = {}) {
    this.log = options.log ?? silentAgentLog;
    this.baseEnv = { ...(options.baseEnv ?? process.env) };
  }

  // Serves one byte stream (socket, virtio port, in-memory pair) until it closes.
  serve(transport: Duplex): AgentConnection {
    const connection = new AgentConnection(transport, this, this.log);
    this.connections.add(connection);
    void connection.done.then(() => this.connections.delete(connection));
    return connection;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Environment for a new command: base env + set_env values + the request's own env. */
  envFor(requestEnv?: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...this.baseEnv, ...this.trustEnv };
    for (const [name, value] of this.envOverlay) env[name] = value;
    return requestEnv ? Object.assign(env, requestEnv) : env;
  }

  // Stores variables in memory for later commands; names must be valid shell names.
  setEnv(vars: Record<string, string>): void {
    for (const name of Object.keys(vars)) {
      if (!ENV_NAME.test(name)) throw new WireError("INVALID_REQUEST", `invalid environment variable name ${JSON.stringify(name)}`);
    }
    for (const [name, value] of Object.entries(vars)) this.envOverlay.set(name, value);
  }

  unsetEnv(names: readonly string[]): void {
    for (const name of names) this.envOverlay.delete(name);
  }

  async setHostname(hostname: string): Promise<void> {
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(hostname)) {
      throw new WireError("INVALID_REQUEST", `invalid hostname ${JSON.stringify(hostname)}: use letters, digits and inner hyphens`);
    }
    if (!this.options.setHostname) throw new WireError("UNSUPPORTED", "this agent was started without hostname support");
    await this.options.setHostname(hostname);
  }

  // Sets the wall clock (after a memory-snapshot restore it is stuck at the save time).
  async setClock(epochMs: number): Promise<void> {
    if (!this.options.setClock) throw new WireError("UNSUPPORTED", "this agent was started without clock support");
    await this.options.setClock(epochMs);
  }

  // Mixes host-chosen random bytes into the kernel pool, so restores of one snapshot diverge.
  async addEntropy(bytes: Buffer): Promise<void> {
    if (bytes.length > MAX_ENTROPY_BYTES) {
      throw new WireError("INVALID_REQUEST", `entropy is ${bytes.length} bytes; at most ${MAX_ENTROPY_BYTES} are accepted`);
    }
    if (!this.options.addEntropy) throw new WireError("UNSUPPORTED", "this agent was started without entropy support");
    if (bytes.length > 0) await this.options.addEntropy(bytes);
  }

  // Trusts the operator's CA certificates and uses its proxies from now on (workspace-trust.ts).
  async applyTrust(trust: GuestTrust): Promise<void> {
    this.trustEnv = await applyTrust(trust, this.options.trustPaths);
  }

  requestShutdown(): void {
    setImmediate(() => this.options.onShutdown?.());
  }

  /** Kills every job's process group and closes every connection, resolving once their last frames left. */
  async close(): Promise<void> {
    this.jobs.killAll();
    for (const connection of this.connections) connection.close("agent closing");
    await Promise.all([...this.connections].map((connection) => connection.done));
  }
}
