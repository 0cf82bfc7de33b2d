// The engine: one per state dir. Opens the database, takes the lock, reconciles the host with
// the database, and hands out the workspace and snapshot services.
import { ensureStateDir } from "../core/state-dir.js";
import { join } from "node:path";
import type { EngineDeps, GuestLink } from "./engine-deps.js";
import { LifecycleReaper } from "./lifecycle-reaper.js";
import { LifecycleService } from "./lifecycle-service.js";
import { reconcile, type ReconcileReport } from "./reconcile.js";
import { SnapshotService } from "./snapshot-service.js";
import { PortForwards } from "./port-forwards.js";
import { acquireStateLock, type StateLock } from "./state-lock.js";
import { StateDb } from "./state-db.js";
import type { WorkspaceDefaults } from "./workspace-options.js";
import { WorkspaceService } from "./workspace-service.js";
import { WarmPool } from "./warm-pool.js";
import { poolWorkspaces } from "./pool-handout.js";

export class Engine<G extends GuestLink = GuestLink> {
  readonly workspaces: WorkspaceService<G>;
  readonly snapshots: SnapshotService<G>;
  /** Host ports forwarded to workspace ports. */
  readonly ports: PortForwards<G>;
  /** Pause, resume, ttl and idle timeouts, holds. */
  readonly lifecycle: LifecycleService<G>;
  private readonly reaper: LifecycleReaper<G>;
  /** Workspaces started ahead of demand (absent: no [pool] configured). */
  pool: WarmPool<G> | undefined;

  readonly deps: EngineDeps<G>;
  /** What a workspace is created with when the caller does not say. */
  readonly defaults: WorkspaceDefaults;
  private closed = false;

  private constructor(
    given: EngineDeps<G>,
    private readonly db: StateDb,
    private readonly lock: StateLock,
    defaults: WorkspaceDefaults,
  ) {
    this.defaults = defaults;
    // every state change (a create, a stop) may move a deadline: the reaper plans again
    const stateChanged = () => (given.events?.stateChanged?.(), this.reaper.wake());
    const deps = (this.deps = { ...given, events: { ...given.events, stateChanged } });
    this.workspaces = new WorkspaceService(deps, db, defaults);
    this.snapshots = new SnapshotService(this.workspaces, db, deps);
    this.ports = new PortForwards(this.workspaces, db, deps);
    this.workspaces.observe(this.ports);
    this.reaper = new LifecycleReaper({ workspaces: this.workspaces, db, deps });
    this.lifecycle = new LifecycleService(this.workspaces, db, deps, () => this.reaper.wake());
  }

  // Opens the engine of deps.stateDir (exclusive) and reconciles it with the host.
  static async open<G extends GuestLink>(deps: EngineDeps<G>, defaults: WorkspaceDefaults): Promise<{ engine: Engine<G>; report: ReconcileReport }> {
    ensureStateDir(deps.stateDir);
    const lock = await acquireStateLock(deps.stateDir);
    let db: StateDb | undefined;
    try {
      db = new StateDb(join(deps.stateDir, "state.db"));
      await deps.storage.setup();
      const engine = new Engine(deps, db, lock, defaults);
      const report = await reconcile(engine.workspaces, db, deps);
      await engine.ports.resume(); // the forwards of the workspaces it adopted listen again
      engine.workspaces.activity.start();
      engine.reaper.start(); // what ran out while no daemon was running goes first
      engine.startPool();
      return { engine, report };
    } catch (err) {
      db?.close();
      lock.release();
      throw err;
    }
  }

  // Starts keeping the configured workspaces ready (after reconcile adopted what a previous daemon pooled).
  private startPool(): void {
    if (!this.deps.warmPool) return;
    const pool = new WarmPool(poolWorkspaces(this.workspaces, this.snapshots, this.db, this.deps), this.deps.warmPool, this.defaults, this.deps.logger.child({ component: "warm-pool" }));
    if (pool.empty) return;
    this.pool = pool;
    this.workspaces.usePool(pool);
    this.snapshots.usePool(pool);
    pool.start();
  }

  /**
   * Destroys the warm pool's workspaces; closes port-forward listeners, connections and the
   * database. Workspaces keep running and the storage pool stays attached (their root filesystems live on it); the next open adopts them.
   */
  async close(): Promise<void> {
    if (this.closed) return; // a second close (a caller that reopens) finds nothing to do
    this.closed = true;
    await this.pool?.close();
    await this.ports.closeAll();
    await this.reaper.close();
    await this.workspaces.close();
    this.db.close();
    this.lock.release();
  }
}
