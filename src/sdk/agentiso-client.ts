// The TypeScript SDK's entry object: a connection to the daemon's control socket, every
// operation as a typed method (`operations`), and workspaces as objects (`workspaces`).
//   const agentiso = connect();
//   await using ws = await agentiso.workspaces.create({ image: "base" });
//   const { stdout } = await ws.exec("uname -a");
import { join } from "node:path";
import { ApiClient, type CallOptions } from "../api/api-client.js";
import type { InputOf, OperationContract, OutputOf } from "../contract/contract.js";
import { contracts, type Contracts } from "../contract/registry.js";
import { DEFAULT_HOME } from "../config/config.js";
import { CONTROL_SOCKET_FILE } from "../config/paths.js";
import { operationMethods, type OperationMethods } from "./operation-methods.js";
import { Workspaces } from "./workspaces.js";

export interface ConnectOptions {
  /** The daemon's state dir; default $AGENTISO_HOME, else /var/lib/agentiso. */
  home?: string;
  /** The control socket itself (overrides home). */
  socketPath?: string;
  /** Act as this MCP session: see and own only its workspaces (default: the host's operator, who sees all). */
  session?: string;
}

export class Agentiso {
  /** Every operation of the daemon, typed by its contract: `agentiso.operations.gitDiff({...})`. */
  readonly operations: OperationMethods;
  readonly workspaces: Workspaces;
  private readonly client: ApiClient;

  constructor(options: ConnectOptions = {}) {
    const socketPath = options.socketPath ?? join(options.home ?? process.env.AGENTISO_HOME ?? DEFAULT_HOME, CONTROL_SOCKET_FILE);
    this.client = new ApiClient({ socketPath, ...(options.session !== undefined && { session: options.session }) });
    this.operations = operationMethods(this.client);
    this.workspaces = new Workspaces(this.operations);
  }

  /** Runs any operation by its contract (`contracts.exec`, …). */
  run<C extends OperationContract>(contract: C, input: InputOf<C>, options?: CallOptions): Promise<OutputOf<C>> {
    return this.client.run(contract, input, options);
  }

  /** Runs an orchestration, calling onProgress with each progress event as it happens. */
  orchestrate(input: InputOf<Contracts["orchestrate"]>, options: { onProgress?: (event: unknown) => void; signal?: AbortSignal } = {}): Promise<OutputOf<Contracts["orchestrate"]>> {
    return this.client.runStreaming(contracts.orchestrate, input, options.onProgress ?? (() => {}), options.signal ? { signal: options.signal } : {});
  }

  /** The daemon's health: pid, state dir, workspace count, uptime. */
  health(options: { timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    return this.client.health(options);
  }
}

// Connects to the daemon of a state dir (it must be running: `agentiso daemon`, or any CLI call, starts it).
export function connect(options: ConnectOptions = {}): Agentiso {
  return new Agentiso(options);
}
