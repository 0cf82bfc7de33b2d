// Admits each call of an MCP session before it runs: the rate limit of its principal (a
// client credential's sessions share one, so a new session buys nothing; the host's own
// sessions have one each), charged by what the call costs, and for a client's sessions the
// client's caps on workspaces and on the memory they are given. Workspaces that calls in
// flight are creating count against the caps until the call ends, so parallel calls cannot
// overshoot them. CLI and control-API calls without a session are never limited.
import { AgentisoError } from "../core/errors.js";
import type { AdmitHook } from "./invoke.js";
import type { Operation, OperationServices, WorkspaceDemand } from "./operation.js";
import { clientOf } from "./session-scope.js";
import type { RateLimiter } from "./rate-limiter.js";

export interface ClientCaps {
  name: string;
  maxWorkspaces: number;
  /** Memory all its workspaces may be given together; undefined = no cap. */
  maxMemoryBytes?: number;
}

export interface ClientAdmissionOptions {
  limiter: RateLimiter;
  clients: readonly ClientCaps[];
  /** The engine once it is open (caps count what a client owns). */
  engine: () => OperationServices["engine"] | undefined;
  /** Memory of a workspace whose call names none (config defaults.memory). */
  defaultMemoryBytes: number;
}

interface Held {
  count: number;
  memoryMiB: number;
}

const MIB = 1024 * 1024;

export class ClientAdmission {
  private readonly caps: Map<string, ClientCaps>;
  private readonly inFlight = new Map<string, Held>();

  constructor(private readonly options: ClientAdmissionOptions) {
    this.caps = new Map(options.clients.map((c) => [c.name, c]));
  }

  readonly admit: AdmitHook = (operation, input, session) => {
    if (session === undefined) return;
    const client = clientOf(session);
    const demand = operation.creates?.(input);
    const release = client === undefined ? undefined : this.hold(client, demand);
    try {
      this.options.limiter.admit(client ?? session, operation.category, operation.name, costOf(operation, input, demand));
    } catch (err) {
      release?.();
      throw err;
    }
    return release;
  };

  // Checks the client's caps with this call's workspaces added and holds them until release.
  private hold(client: string, demand: WorkspaceDemand | undefined): (() => void) | undefined {
    const caps = this.caps.get(client);
    if (!caps || !demand || demand.count <= 0) return undefined;
    const adding: Held = { count: demand.count, memoryMiB: demand.count * this.memoryMiBOf(demand) };
    const used = this.usage(client);
    if (used.count + adding.count > caps.maxWorkspaces) {
      throw new AgentisoError(
        "QUOTA_EXCEEDED",
        `client ${client} has ${used.count} of its ${caps.maxWorkspaces} workspaces (counting those being created); this call would add ${adding.count}: destroy some first`,
        { details: { cap: "maxWorkspaces", used: used.count, max: caps.maxWorkspaces, adding: adding.count } },
      );
    }
    if (caps.maxMemoryBytes !== undefined && used.memoryMiB + adding.memoryMiB > caps.maxMemoryBytes / MIB) {
      const max = Math.floor(caps.maxMemoryBytes / MIB);
      throw new AgentisoError(
        "QUOTA_EXCEEDED",
        `client ${client}'s workspaces are given ${used.memoryMiB} MiB of its ${max} MiB of memory; this call would add ${adding.memoryMiB} MiB: ask for less memory or destroy some first`,
        { details: { cap: "maxMemory", usedMiB: used.memoryMiB, maxMiB: max, addingMiB: adding.memoryMiB } },
      );
    }
    this.add(client, adding, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.add(client, adding, -1);
    };
  }

  // What the client's workspaces (any state) and its calls in flight hold.
  private usage(client: string): Held {
    const held = { ...(this.inFlight.get(client) ?? { count: 0, memoryMiB: 0 }) };
    for (const workspace of this.options.engine()?.workspaces.list() ?? []) {
      if (clientOf(workspace.owner) !== client) continue;
      held.count += 1;
      held.memoryMiB += workspace.memoryMiB;
    }
    return held;
  }

  private add(client: string, held: Held, sign: 1 | -1): void {
    const current = this.inFlight.get(client) ?? { count: 0, memoryMiB: 0 };
    const next = { count: current.count + sign * held.count, memoryMiB: current.memoryMiB + sign * held.memoryMiB };
    if (next.count <= 0) this.inFlight.delete(client);
    else this.inFlight.set(client, next);
  }

  private memoryMiBOf(demand: WorkspaceDemand): number {
    if (demand.memoryBytes !== undefined) return Math.ceil(demand.memoryBytes / MIB);
    if (demand.forkOf !== undefined) {
      const origin = this.options.engine()?.workspaces.list().find((w) => w.id === demand.forkOf || w.name === demand.forkOf);
      if (origin) return origin.memoryMiB;
    }
    return Math.ceil(this.options.defaultMemoryBytes / MIB);
  }
}

// Rate-limit units: the operation's own cost, else the workspaces it creates, else 1.
function costOf(operation: Operation, input: unknown, demand: WorkspaceDemand | undefined): number {
  return Math.max(1, operation.cost?.(input) ?? demand?.count ?? 1);
}
