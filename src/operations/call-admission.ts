// Admits each call before it runs — the one place for rate limits and quotas. A session's call
// is charged to its principal's rate limit (a client credential's sessions share one, so a new
// session buys nothing; the host's own sessions have one each), by what the call costs. Every
// call, the operator's included, is checked against the quotas of each scope it falls in (the
// host; the client; the session) for the workspaces it creates, the memory and disk they are
// given, and the commands it keeps running (quota-ledger.ts); what it holds is released when
// the call ends, whether it succeeded or failed. CLI and control-API calls without a session
// are never rate limited and meet only the host's quotas.
import type { AdmitHook } from "./invoke.js";
import type { Operation, OperationServices, WorkspaceDemand } from "./operation.js";
import { QuotaLedger, type QuotaAsk, type QuotaLimits, type QuotaScope } from "./quota-ledger.js";
import { clientOf } from "./session-scope.js";
import type { RateLimiter } from "./rate-limiter.js";

export interface ClientQuotas extends QuotaLimits {
  name: string;
}

export interface Quotas {
  /** Everything on the host, whoever made it (the warm pool's idle VMs excepted). */
  global: QuotaLimits;
  /** Each MCP session of a client credential ([[daemon.clients]]). */
  clientSession: QuotaLimits;
  /** Each of the host's own MCP sessions (agentiso serve, the unix socket). */
  hostSession: QuotaLimits;
  /** Each client credential, all its sessions together. */
  clients: readonly ClientQuotas[];
}

export interface CallAdmissionOptions {
  limiter: RateLimiter;
  quotas: Quotas;
  /** The engine once it is open (quotas count what each scope owns). */
  engine: () => OperationServices["engine"] | undefined;
  /** Memory and disk of a workspace whose call names none (config [defaults]). */
  defaults: { memoryBytes: number; diskBytes: number };
}

const MIB = 1024 * 1024;

export class CallAdmission {
  private readonly clients: Map<string, ClientQuotas>;
  private readonly ledger: QuotaLedger;

  constructor(private readonly options: CallAdmissionOptions) {
    this.clients = new Map(options.quotas.clients.map((c) => [c.name, c]));
    this.ledger = new QuotaLedger(() => options.engine()?.workspaces.list() ?? []);
  }

  readonly admit: AdmitHook = (operation, input, session) => {
    const demand = operation.creates?.(input);
    const release = this.ledger.hold(this.scopesOf(session), this.askOf(demand, operation.execs?.(input) ?? 0));
    if (session === undefined) return release;
    try {
      this.options.limiter.admit(clientOf(session) ?? session, operation.category, operation.name, costOf(operation, input, demand));
    } catch (err) {
      release();
      throw err;
    }
    return release;
  };

  // The host, then the session's client (when it has quotas), then the session itself.
  private scopesOf(session: string | undefined): QuotaScope[] {
    const scopes: QuotaScope[] = [{ key: "global", label: "the host", limits: this.options.quotas.global, owns: () => true }];
    if (session === undefined) return scopes;
    const client = clientOf(session);
    const caps = client === undefined ? undefined : this.clients.get(client);
    if (caps) scopes.push({ key: `client:${client}`, label: `client ${client}`, limits: caps, owns: (owner) => clientOf(owner) === client });
    const limits = client === undefined ? this.options.quotas.hostSession : this.options.quotas.clientSession;
    scopes.push({ key: `session:${session}`, label: `session ${session}`, limits, owns: (owner) => owner === session });
    return scopes;
  }

  private askOf(demand: WorkspaceDemand | undefined, execs: number): QuotaAsk {
    const count = Math.max(0, demand?.count ?? 0);
    if (count === 0) return { workspaces: 0, memoryMiB: 0, diskMiB: 0, execs };
    const origin = demand?.forkOf === undefined ? undefined : this.options.engine()?.workspaces.list().find((w) => w.id === demand.forkOf || w.name === demand.forkOf);
    const memoryMiB = Math.ceil((demand?.memoryBytes ?? (origin ? origin.memoryMiB * MIB : this.options.defaults.memoryBytes)) / MIB);
    const diskMiB = Math.ceil((demand?.diskBytes ?? origin?.diskBytes ?? this.options.defaults.diskBytes) / MIB);
    return { workspaces: count, memoryMiB: count * memoryMiB, diskMiB: count * diskMiB, execs };
  }
}

// Rate-limit units: the operation's own cost, else the workspaces it creates, else 1.
function costOf(operation: Operation, input: unknown, demand: WorkspaceDemand | undefined): number {
  return Math.max(1, operation.cost?.(input) ?? demand?.count ?? 1);
}
