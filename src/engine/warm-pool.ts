// Workspaces started ahead of demand, per key (pool-key.ts: image, runtime, every limit): a
// workspace_create whose settings resolve to a pool's key takes a ready one, which is then
// given the caller's name (its hostname and /etc/hosts with it), owner and lifecycle limits, so
// it cannot be told from a fresh one; the pool refills in the background (pool-filler.ts).
// Pooled workspaces are ordinary rows owned by POOL_OWNER, named ws-<id> as an unnamed create
// would be, hidden from listings and sessions, never reused once handed out, adopted after a
// crash when their key is still configured (destroyed otherwise), destroyed when unclaimed past
// their idle timeout (the pool then waits for the next create of its key before refilling)
// and when the engine closes.
import type { Logger } from "../core/logger.js";
import { assertValidName } from "../core/names.js";
import type { GuestLink } from "./engine-deps.js";
import type { LifecycleLimits } from "./lifecycle.js";
import { PoolFiller, type FillTarget } from "./pool-filler.js";
import { poolKeyOf, poolSpecOf, type PoolSpec, type WarmPoolSettings } from "./pool-key.js";
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
}

export class WarmPool<G extends GuestLink> {
  private readonly pools = new Map<string, Pool>();
  /** Pooled workspaces being destroyed: never handed out. */
  private readonly leaving = new Set<string>();
  private readonly retiring = new Set<Promise<void>>();
  private readonly filler: PoolFiller;
  private adopting: Promise<void> | undefined;
  private reapTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private handedOutAtMs = 0;

  constructor(
    private readonly workspaces: PoolWorkspaces<G>,
    settings: WarmPoolSettings,
    private readonly defaults: WorkspaceDefaults,
    private readonly logger: Logger,
  ) {
    for (const entry of settings.entries.filter((e) => e.size > 0)) {
      const spec = poolSpecOf(entry, defaults);
      const key = poolKeyOf(spec);
      const idleTimeoutMs = entry.idleTimeoutMs !== undefined ? entry.idleTimeoutMs : (settings.idleTimeoutMs ?? null);
      const same = this.pools.get(key);
      if (same) logger.warn("warm pool: two entries have the same settings; the larger size is kept", { pool: key });
      this.pools.set(key, { key, spec, size: Math.max(entry.size, same?.size ?? 0), idleTimeoutMs, hits: 0, misses: 0, reaped: 0, dormant: false });
    }
    this.filler = new PoolFiller({
      concurrency: settings.fillConcurrency ?? 1,
      targets: () => [...this.pools.values()].map((pool) => this.targetOf(pool)),
      callersBusy: () => Date.now() - this.handedOutAtMs < HANDOUT_QUIET_MS || workspaces.list({ states: ["creating", "starting"] }).length > 0,
      logger,
    });
  }

  /** No pool configured. */
  get empty(): boolean {
    return this.pools.size === 0;
  }

  // Keeps what a previous daemon pooled (running, of a configured key, within its size), destroys the rest, then fills.
  start(): void {
    this.adopting = this.adopt()
      .catch((err: unknown) => this.logger.error("warm pool: adopting pooled workspaces failed", { err }))
      .finally(() => this.filler.kick());
    const timeouts = [...this.pools.values()].flatMap((p) => (p.idleTimeoutMs === null ? [] : [p.idleTimeoutMs]));
    if (timeouts.length > 0) this.reapTimer = setInterval(() => this.reapIdle(), Math.min(30_000, Math.max(200, Math.min(...timeouts) / 4))).unref();
  }

  // A pooled workspace handed to this request, or undefined (no pool of its key, none ready).
  async claim(options: CreateWorkspaceOptions): Promise<WorkspaceRecord | undefined> {
    if (this.closed || options.owner === POOL_OWNER) return undefined;
    const pool = this.pools.get(poolKeyOf(poolSpecOf(options, this.defaults)));
    if (!pool) return undefined;
    pool.dormant = false;
    const name = options.name === undefined ? undefined : assertValidName(options.name, "workspace name");
    // synchronous from the pick to the assignment (and the row changes only while still pooled): one caller per workspace
    const pooled = this.ready(pool).find((w) => this.workspaces.assign(w.id, { name: name ?? w.name, owner: options.owner, lifecycle: options.lifecycle }));
    this.filler.kick();
    if (!pooled) {
      pool.misses++;
      return undefined;
    }
    pool.hits++;
    this.handedOutAtMs = Date.now();
    const claimed = this.workspaces.get(pooled.id);
    if (claimed.name !== pooled.name) await this.rehostOrDiscard(claimed, options.signal);
    this.logger.info("workspace taken from the warm pool", { workspace: claimed.id, name: claimed.name, pool: pool.key });
    return this.workspaces.get(claimed.id);
  }

  stats(): PoolStats[] {
    return [...this.pools.values()].map(({ key, spec, size, hits, misses, reaped, dormant }) => ({
      key, ...spec, size, ready: this.ready(this.pools.get(key)!).length, starting: this.filler.startingOf(key), hits, misses, reaped, dormant,
    }));
  }

  // Stops refilling and destroys what is pooled (it is cheap to make again).
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reapTimer);
    await this.adopting;
    await this.filler.close();
    await Promise.allSettled([...this.retiring]);
    for (const record of this.workspaces.list({ owner: POOL_OWNER })) {
      await this.workspaces.destroy(record.id).catch((err: unknown) => this.logger.warn("warm pool: destroy failed", { workspace: record.id, err }));
    }
  }

  /** Ready to hand out: running, pooled, of this pool's key, not on their way out; oldest first. */
  private ready(pool: Pool): WorkspaceRecord[] {
    return this.workspaces.list({ owner: POOL_OWNER, states: ["running"] }).filter((w) => !this.leaving.has(w.id) && poolKeyOf(poolSpecOf(w, this.defaults)) === pool.key);
  }

  private targetOf(pool: Pool): FillTarget {
    return {
      key: pool.key,
      lacking: () => (pool.dormant || this.closed ? 0 : pool.size - this.ready(pool).length),
      fillOne: async (signal) => {
        const record = await this.workspaces.create({ ...pool.spec, owner: POOL_OWNER, signal });
        await this.workspaces.warmUp(record.id, signal); // connected, configured and warm before anyone asks
      },
    };
  }

  private async rehostOrDiscard(claimed: WorkspaceRecord, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.workspaces.rehost(claimed, signal);
    } catch (err) {
      await this.workspaces.destroy(claimed.id).catch(() => {});
      throw err;
    }
  }

  private async adopt(): Promise<void> {
    const kept = new Map<string, number>();
    for (const record of this.workspaces.list({ owner: POOL_OWNER })) {
      const pool = this.pools.get(poolKeyOf(poolSpecOf(record, this.defaults)));
      const count = pool ? (kept.get(pool.key) ?? 0) : Infinity;
      const usable = record.state === "running" && pool !== undefined && count < pool.size && (await this.connects(record.id));
      if (usable) kept.set(pool.key, count + 1);
      else this.retire(record.id, "left by a previous daemon and not wanted now");
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
        this.retire(record.id, "idle");
      }
    }
  }

  private retire(id: string, reason: string): void {
    this.leaving.add(id);
    this.logger.info("warm pool: destroying a pooled workspace", { workspace: id, reason });
    const done = this.workspaces
      .destroy(id)
      .catch((err: unknown) => this.logger.warn("warm pool: destroy failed", { workspace: id, err }))
      .finally(() => (this.leaving.delete(id), this.retiring.delete(done)));
    this.retiring.add(done);
  }
}
