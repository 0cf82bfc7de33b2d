// Workspaces started ahead of demand, per key (pool-key.ts: image, runtime, every limit): a
// workspace_create whose settings resolve to a pool's key takes a ready one, which is then
// given the caller's name (its hostname and /etc/hosts with it), owner and lifecycle limits, so
// it cannot be told from a fresh one; the pool refills in the background (pool-filler.ts).
// Pooled workspaces are ordinary rows owned by POOL_OWNER, named ws-<id> as an unnamed create
// would be, hidden from listings and sessions, never reused once handed out, adopted after a
// crash when their key is still configured (destroyed otherwise), destroyed when unclaimed past
// their idle timeout (the pool then waits for the next create of its key before refilling)
// and when the engine closes.
// Fork pools ([pool] forksPerSnapshot) are the same for forks: begun by a fork of a snapshot
// (per origin, snapshot and limits), they keep forks of it ready for the next fork of the same
// key, and are dropped with their pooled forks before the snapshot or origin changes
// (dropForks). Forks of VMs are not pooled; a previous daemon's pooled forks are destroyed.
import type { Logger } from "../core/logger.js";
import { assertValidName } from "../core/names.js";
import type { GuestLink } from "./engine-deps.js";
import type { LifecycleLimits } from "./lifecycle.js";
import { PoolFiller, type FillTarget } from "./pool-filler.js";
import { forkOptionsOf, forkSpecOf, poolKeyOf, poolSpecOf, recordSpecOf, type PoolForkOptions, type PoolSpec, type WarmPoolSettings } from "./pool-key.js";
import type { CreateWorkspaceOptions, WorkspaceDefaults } from "./workspace-options.js";
import type { WorkspaceRecord } from "./workspace-record.js";
import type { WorkspaceState } from "./workspace-state.js";

export type { PoolEntrySettings, WarmPoolSettings } from "./pool-key.js";

export const POOL_OWNER = "agentiso:warm-pool";

// A caller who just got a pooled workspace runs its first commands in it now: the refill waits
// this long after a hand-out rather than compete with them for the CPU.
const HANDOUT_QUIET_MS = 250;

/** What the caller asks that the pool cannot know ahead: given at hand-out. */
export interface HandOut {
  name: string;
  owner: string | undefined;
  lifecycle: LifecycleLimits | undefined;
}

/** What the pool asks of the workspace service that owns it (which imports the pool, not the reverse). */
export interface PoolWorkspaces<G extends GuestLink> {
  get(idOrName: string): WorkspaceRecord;
  list(filter: { owner?: string; states?: WorkspaceState[] }): WorkspaceRecord[];
  create(options: CreateWorkspaceOptions): Promise<WorkspaceRecord>;
  fork(originId: string, options: PoolForkOptions): Promise<WorkspaceRecord[]>;
  guest(idOrName: string, signal?: AbortSignal): Promise<G>;
  /** Connects to the agent and has it run one command: the first exec of whoever gets it is then as fast as any. */
  warmUp(id: string, signal?: AbortSignal): Promise<void>;
  destroy(idOrName: string): Promise<void>;
  /** Gives a pooled workspace to a caller in one step; false when it was no longer pooled. */
  assign(id: string, to: HandOut): boolean;
  /** Makes a handed-out workspace answer to its new name inside (hostname, /etc/hosts). */
  rehost(record: WorkspaceRecord, signal?: AbortSignal): Promise<void>;
}

export interface PoolStats extends PoolSpec {
  key: string;
  size: number;
  ready: number;
  starting: number;
  hits: number;
  misses: number;
  reaped: number;
  /** Emptied for idleness: refills at the next create of its key. */
  dormant: boolean;
}

interface Pool {
  key: string;
  spec: PoolSpec;
  size: number;
  idleTimeoutMs: number | null;
  hits: number;
  misses: number;
  reaped: number;
  dormant: boolean;
  /** Aborted when the pool is dropped (a fork pool whose snapshot or origin changes). */
  dropped: AbortController;
  /** Its fills under way. */
  fills: Set<Promise<unknown>>;
}

export class WarmPool<G extends GuestLink> {
  private readonly pools = new Map<string, Pool>();
  /** Pooled workspaces being destroyed: never handed out. */
  private readonly leaving = new Set<string>();
  /** The destroys under way, by workspace. */
  private readonly retiring = new Map<string, Promise<void>>();
  private readonly filler: PoolFiller;
  private adopting: Promise<void> | undefined;
  private reapTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private handedOutAtMs = 0;
  private readonly forksPerSnapshot: number;
  private readonly idleTimeoutMs: number | null;

  constructor(
    private readonly workspaces: PoolWorkspaces<G>,
    settings: WarmPoolSettings,
    private readonly defaults: WorkspaceDefaults,
    private readonly logger: Logger,
  ) {
    this.forksPerSnapshot = settings.forksPerSnapshot ?? 0;
    this.idleTimeoutMs = settings.idleTimeoutMs ?? null;
    for (const entry of settings.entries.filter((e) => e.size > 0)) {
      const spec = poolSpecOf(entry, defaults);
      const same = this.pools.get(poolKeyOf(spec));
      if (same) logger.warn("warm pool: two entries have the same settings; the larger size is kept", { pool: same.key });
      this.addPool(spec, Math.max(entry.size, same?.size ?? 0), entry.idleTimeoutMs !== undefined ? entry.idleTimeoutMs : this.idleTimeoutMs);
    }
    this.filler = new PoolFiller({
      concurrency: settings.fillConcurrency ?? 1,
      targets: () => [...this.pools.values()].map((pool) => this.targetOf(pool)),
      callersBusy: () => Date.now() - this.handedOutAtMs < HANDOUT_QUIET_MS || workspaces.list({ states: ["creating", "starting"] }).length > 0,
      logger,
    });
  }

  /** No pool configured, and forks not pooled. */
  get empty(): boolean {
    return this.pools.size === 0 && this.forksPerSnapshot === 0;
  }

  // Keeps what a previous daemon pooled (running, of a configured key, within its size), destroys the rest, then fills.
  start(): void {
    this.adopting = this.adopt()
      .catch((err: unknown) => this.logger.error("warm pool: adopting pooled workspaces failed", { err }))
      .finally(() => this.filler.kick());
    const timeouts = [...this.pools.values(), ...(this.forksPerSnapshot > 0 ? [{ idleTimeoutMs: this.idleTimeoutMs }] : [])].flatMap((p) => (p.idleTimeoutMs === null ? [] : [p.idleTimeoutMs]));
    if (timeouts.length > 0) this.reapTimer = setInterval(() => this.reapIdle(), Math.min(30_000, Math.max(200, Math.min(...timeouts) / 4))).unref();
  }

  // A pooled workspace handed to this request, or undefined (no pool of its key, none ready).
  async claim(options: CreateWorkspaceOptions): Promise<WorkspaceRecord | undefined> {
    if (this.closed || options.owner === POOL_OWNER) return undefined;
    const { network, allowlist } = options; // allowlist entries: no image pool has any
    const pool = allowlist || network === "allowlist" ? undefined : this.pools.get(poolKeyOf(poolSpecOf(options, this.defaults)));
    if (!pool) return undefined;
    return (await this.take(pool, [options.name], { owner: options.owner, lifecycle: options.lifecycle }, options.signal))[0];
  }

  // Pooled forks of `origin`'s snapshot handed to this fork, one per name while any are ready
  // (fewer, or none: the caller forks the rest); begins the fork pool of this key.
  async claimForks(origin: WorkspaceRecord, options: PoolForkOptions, names: Array<string | undefined>): Promise<WorkspaceRecord[]> {
    if (this.closed || this.forksPerSnapshot === 0 || options.owner === POOL_OWNER || origin.owner === POOL_OWNER || origin.runtime !== "container") return [];
    const spec = forkSpecOf(origin, options.snapshot, options);
    const pool = this.pools.get(poolKeyOf(spec)) ?? this.addPool(spec, this.forksPerSnapshot, this.idleTimeoutMs);
    return this.take(pool, names, { owner: options.owner, lifecycle: options.lifecycle }, options.signal);
  }

  // Drops the fork pools of this origin (and snapshot), then destroys their pooled forks: before the snapshot or origin changes.
  async dropForks(workspaceId: string, snapshot?: string): Promise<void> {
    const matches = (f: { workspaceId: string; snapshot: string } | undefined) => f?.workspaceId === workspaceId && (snapshot === undefined || f.snapshot === snapshot);
    const dropped = [...this.pools.values()].filter((p) => matches(p.spec.forkOf));
    for (const pool of dropped) {
      this.pools.delete(pool.key);
      pool.dropped.abort();
    }
    await Promise.allSettled(dropped.flatMap((p) => [...p.fills]));
    const pooled = this.workspaces.list({ owner: POOL_OWNER }).filter((w) => matches(w.forkedFrom));
    await Promise.allSettled(pooled.map((w) => this.retiring.get(w.id) ?? this.retire(w.id, "its snapshot or origin changes")));
  }

  // Hands ready ones of `pool` out, one per name (undefined: it keeps its ws-<id> name); all or none made to answer to their names.
  private async take(pool: Pool, names: Array<string | undefined>, to: Omit<HandOut, "name">, signal: AbortSignal | undefined): Promise<WorkspaceRecord[]> {
    pool.dormant = false;
    const valid = names.map((name) => (name === undefined ? undefined : assertValidName(name, "workspace name")));
    // synchronous from the pick to the assignment (and the row changes only while still pooled): one caller per workspace
    const ready = this.ready(pool);
    const taken: WorkspaceRecord[] = [];
    try {
      for (const name of valid) {
        const pooled = ready.find((w) => !taken.includes(w) && this.workspaces.assign(w.id, { name: name ?? w.name, owner: to.owner, lifecycle: to.lifecycle }));
        if (!pooled) break;
        taken.push(pooled);
      }
    } catch (err) {
      // a name taken (the assignment failed, that one stays pooled): the ones given to this call already go, as a failed fork's would
      await this.discard(taken);
      throw err;
    } finally {
      this.filler.kick();
    }
    pool.hits += taken.length;
    pool.misses += valid.length - taken.length;
    if (taken.length === 0) return [];
    this.handedOutAtMs = Date.now();
    const rehosted = await Promise.allSettled(taken.map((w) => this.rehost(w, signal)));
    const failure = rehosted.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) {
      await this.discard(taken);
      throw failure.reason;
    }
    for (const w of taken) this.logger.info("workspace taken from the warm pool", { workspace: w.id, pool: pool.key });
    return taken.map((w) => this.workspaces.get(w.id));
  }

  stats(): PoolStats[] {
    return [...this.pools.values()].map((pool) => {
      const { key, spec, size, hits, misses, reaped, dormant } = pool;
      return { key, ...spec, size, ready: this.ready(pool).length, starting: this.filler.startingOf(key), hits, misses, reaped, dormant };
    });
  }

  // Stops refilling and destroys what is pooled (it is cheap to make again).
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reapTimer);
    await this.adopting;
    await this.filler.close();
    await Promise.allSettled([...this.retiring.values()]);
    for (const record of this.workspaces.list({ owner: POOL_OWNER })) {
      await this.workspaces.destroy(record.id).catch((err: unknown) => this.logger.warn("warm pool: destroy failed", { workspace: record.id, err }));
    }
  }

  /** Ready to hand out: running, pooled, of this pool's key, not on their way out; oldest first. */
  private ready(pool: Pool): WorkspaceRecord[] {
    return this.workspaces.list({ owner: POOL_OWNER, states: ["running"] }).filter((w) => !this.leaving.has(w.id) && poolKeyOf(recordSpecOf(w)) === pool.key);
  }

  private addPool(spec: PoolSpec, size: number, idleTimeoutMs: number | null): Pool {
    const pool = { key: poolKeyOf(spec), spec, size, idleTimeoutMs, hits: 0, misses: 0, reaped: 0, dormant: false, dropped: new AbortController(), fills: new Set<Promise<unknown>>() };
    this.pools.set(pool.key, pool);
    return pool;
  }

  private targetOf(pool: Pool): FillTarget {
    return {
      key: pool.key,
      lacking: () => (pool.dormant || this.closed || pool.dropped.signal.aborted ? 0 : pool.size - this.ready(pool).length),
      fillOne: async (closing) => {
        const fill = this.fillOne(pool, AbortSignal.any([closing, pool.dropped.signal]));
        pool.fills.add(fill);
        await fill.catch((err: unknown) => {
          if (!pool.dropped.signal.aborted) throw err; // cut short on purpose: no back-off, no error
        }).finally(() => pool.fills.delete(fill));
      },
    };
  }

  private async fillOne({ spec }: Pool, signal: AbortSignal): Promise<void> {
    const { forkOf } = spec;
    const record = forkOf
      ? (await this.workspaces.fork(forkOf.workspaceId, forkOptionsOf({ ...spec, forkOf }, POOL_OWNER, signal)))[0]!
      : await this.workspaces.create({ ...spec, owner: POOL_OWNER, signal });
    await this.workspaces.warmUp(record.id, signal); // connected, configured and warm before anyone asks
  }

  // All or none: workspaces handed to one call that failed go, as a failed fork's would.
  private async discard(taken: WorkspaceRecord[]): Promise<void> {
    await Promise.allSettled(taken.map((w) => this.workspaces.destroy(w.id)));
  }

  // A handed-out workspace answers to its new name inside (take() discards all if one cannot).
  private async rehost(pooled: WorkspaceRecord, signal: AbortSignal | undefined): Promise<void> {
    const claimed = this.workspaces.get(pooled.id);
    if (claimed.name !== pooled.name) await this.workspaces.rehost(claimed, signal);
  }

  private async adopt(): Promise<void> {
    const kept = new Map<string, number>();
    for (const record of this.workspaces.list({ owner: POOL_OWNER })) {
      const pool = this.pools.get(poolKeyOf(recordSpecOf(record))); // none for a fork: its pool began with a fork of this daemon
      const count = pool ? (kept.get(pool.key) ?? 0) : Infinity;
      const usable = record.state === "running" && pool !== undefined && count < pool.size && (await this.connects(record.id));
      if (usable) kept.set(pool.key, count + 1);
      else void this.retire(record.id, "left by a previous daemon and not wanted now");
    }
  }

  private async connects(id: string): Promise<boolean> {
    return this.workspaces.warmUp(id).then(() => true, () => false);
  }

  // Destroys the pooled workspaces unclaimed past their pool's idle timeout; the pool then waits for demand.
  private reapIdle(): void {
    const now = Date.now();
    for (const pool of this.pools.values()) {
      if (pool.idleTimeoutMs === null) continue;
      for (const record of this.ready(pool).filter((w) => now - Date.parse(w.createdAt) >= pool.idleTimeoutMs!)) {
        pool.dormant = true;
        pool.reaped++;
        void this.retire(record.id, "idle");
      }
    }
  }

  private retire(id: string, reason: string): Promise<void> {
    this.leaving.add(id);
    this.logger.info("warm pool: destroying a pooled workspace", { workspace: id, reason });
    const done = this.workspaces
      .destroy(id)
      .catch((err: unknown) => this.logger.warn("warm pool: destroy failed", { workspace: id, err }))
      .finally(() => (this.leaving.delete(id), this.retiring.delete(id)));
    this.retiring.set(id, done);
    return done;
  }
}
