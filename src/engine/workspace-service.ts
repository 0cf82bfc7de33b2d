// WorkspaceService: the one owner of workspace lifecycle. Every front door (CLI, MCP, control
// API, orchestrator) goes through it. State lives in SQLite; host resources belong to the
// storage driver and the runtimes; this class keeps the two consistent.
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import type { NetworkMode, NetworkPolicy, RuntimeInstance, WorkspaceRuntime } from "../runtimes/workspace-runtime.js";
import { ActivityTracker } from "./activity-tracker.js";
import { BootTemplates } from "./boot-templates.js";
import type { EngineDeps, GuestLink } from "./engine-deps.js";
import { GuestLinks } from "./guest-links.js";
import { POOL_OWNER, type WarmPool } from "./warm-pool.js";
import { KeyedLock } from "../core/keyed-lock.js";
import { memoryDirOf } from "./memory-paths.js";
import type { StateDb } from "./state-db.js";
import { newWorkspaceRecord, resourcesOf, type CreateWorkspaceOptions, type WorkspaceDefaults } from "./workspace-options.js";
import { asNetworkPolicy, networkPolicyOf, type WorkspaceRecord } from "./workspace-record.js";
import type { WorkspaceLifecycle } from "./workspace-lifecycle.js";
import { assertNotPaused, assertRunning, assertTransition, type WorkspaceState } from "./workspace-state.js";
export type { CreateWorkspaceOptions, WorkspaceDefaults } from "./workspace-options.js";

export class WorkspaceService<G extends GuestLink = GuestLink> {
  /** One change of a workspace at a time (also taken by pause and resume, lifecycle-service.ts). */
  readonly lock = new KeyedLock();
  /** When each workspace was last used (idle timeouts). */
  readonly activity: ActivityTracker;
  /** The connected agents (one per workspace); a memory snapshot detaches one while it saves. */
  readonly guests: GuestLinks<G>;
  private readonly templates: BootTemplates | undefined;
  private pool: Pick<WarmPool<G>, "claim" | "dropForks"> | undefined;
  private lifecycle: WorkspaceLifecycle | undefined;

  constructor(
    protected readonly deps: EngineDeps<G>,
    protected readonly db: StateDb,
    protected readonly defaults: WorkspaceDefaults,
  ) {
    this.guests = new GuestLinks(deps.guests);
    this.activity = new ActivityTracker({ db, linkActivity: (id) => this.guests.activityOf(id) });
    this.templates = deps.bootTemplates ? new BootTemplates(deps.storage, join(deps.stateDir, "templates"), deps.logger) : undefined;
  }

  // Looks a workspace up by id or name; NOT_FOUND says how to list them.
  get(idOrName: string): WorkspaceRecord {
    const record = this.db.getWorkspace(idOrName);
    if (!record) throw new AgentisoError("NOT_FOUND", `no workspace ${JSON.stringify(idOrName)} (see \`agentiso workspace ls\`)`);
    return this.activity.current(record);
  }

  // Workspaces matching the filter; the warm pool's own are listed only when asked for by owner.
  list(filter: { owner?: string; states?: WorkspaceState[] } = {}): WorkspaceRecord[] {
    const all = this.db.listWorkspaces(filter).map((r) => this.activity.current(r));
    return filter.owner === undefined ? all.filter((w) => w.owner !== POOL_OWNER) : all;
  }

  // Creates a workspace from an image and starts it (or hands out a warm-pool one); on failure nothing is left behind.
  async create(options: CreateWorkspaceOptions = {}): Promise<WorkspaceRecord> {
    const pooled = await this.pool?.claim(options);
    if (pooled) return pooled;
    const record = this.newRecord(options);
    this.db.insertWorkspace(record);
    this.deps.events?.stateChanged?.();
    try {
      const base = await this.deps.images.ensureBase(record.image, { runtime: record.runtime, signal: options.signal });
      // a memory-snapshot template, where the runtime has them (and the workspace needs no network device)
      const template = await this.templates?.acquireOrBootCold(record, this.runtimeOf(record), base, options.signal);
      if (template) await this.deps.storage.forkWorkspace(record.id, { from: template.volume, snapshot: template.snapshot, ...this.quotaFor(record), signal: options.signal });
      else await this.deps.storage.createWorkspace(record.id, { base, ...this.quotaFor(record), signal: options.signal });
      return await this.boot(record, template && { memoryPath: template.memoryPath });
    } catch (err) {
      await this.discard(record);
      throw err;
    }
  }

  // Boots a stopped workspace, or resumes saved memory that matches its disk (a restored memory snapshot).
  async start(idOrName: string, fromMemory?: { memoryPath: string }): Promise<WorkspaceRecord> {
    const record = this.get(idOrName);
    return this.lock.run([record.id], async () => {
      const current = this.get(record.id);
      if (current.state === "running") return current;
      assertNotPaused(current.name, current.state);
      return this.boot(current, fromMemory);
    });
  }

  async stop(idOrName: string, options: { timeoutMs?: number } = {}): Promise<WorkspaceRecord> {
    const record = this.get(idOrName);
    return this.lock.run([record.id], async () => {
      const current = this.get(record.id);
      if (current.state === "stopped") return current;
      await this.flushGuestDisk(current);
      this.setState(current, "stopping");
      await this.lifecycle?.stopping(current.id);
      await this.dropGuest(current.id);
      await this.runtimeOf(current).stop(current.id, options);
      this.db.updateWorkspace(current.id, { state: "stopped", pid: undefined });
      this.deps.events?.stateChanged?.();
      return this.get(current.id);
    });
  }

  // Stops (if needed) and deletes a workspace with its volume and snapshots.
  async destroy(idOrName: string): Promise<void> {
    const record = this.get(idOrName);
    await this.pool?.dropForks(record.id); // its pooled forks go first
    await this.lock.run([record.id], async () => {
      const current = this.get(record.id);
      const forks = this.db.forksOf(current.id).filter((f) => f.owner !== POOL_OWNER);
      if (forks.length > 0) {
        throw new AgentisoError("CONFLICT", `workspace ${current.name} has forks (${forks.map((f) => f.name).join(", ")}): destroy them first`, {
          details: { forks: forks.map((f) => f.name) },
        });
      }
      this.setState(current, "destroying");
      try {
        await this.lifecycle?.stopping(current.id);
        await this.dropGuest(current.id);
        await this.runtimeOf(current).stop(current.id, { timeoutMs: 2000 });
        await this.deps.storage.destroyWorkspace(current.id);
        await Promise.all([this.runDir(current.id), memoryDirOf(this.deps.stateDir, current.id)].map((dir) => rm(dir, { recursive: true, force: true })));
      } catch (err) {
        this.db.updateWorkspace(current.id, { state: "failed", error: `destroy failed: ${(err as Error).message}` });
        throw err;
      }
      this.db.deleteWorkspace(current.id);
      this.deps.events?.stateChanged?.();
    });
    await this.pool?.dropForks(record.id); // one a fork begun meanwhile pooled
  }

  async setNetwork(idOrName: string, wanted: NetworkMode | NetworkPolicy): Promise<WorkspaceRecord> {
    const [policy, record] = [asNetworkPolicy(wanted), this.get(idOrName)];
    await this.pool?.dropForks(record.id); // forks inherit the policy: pooled ones would keep the old one
    return this.lock.run([record.id], async () => {
      const current = this.get(record.id);
      assertNotPaused(current.name, current.state);
      if (current.state === "running") await this.runtimeOf(current).setNetwork(current.id, policy.mode, policy);
      this.db.setNetwork(current.id, policy);
      return this.get(current.id);
    });
  }

  setOwner(idOrName: string, owner: string | undefined): WorkspaceRecord {
    const record = this.get(idOrName);
    this.db.updateWorkspace(record.id, { owner });
    return this.get(record.id);
  }

  // The connected agent of a running workspace (connects on first use, then reuses).
  async guest(idOrName: string, signal?: AbortSignal): Promise<G> {
    const record = this.get(idOrName);
    assertRunning(record.name, record.state);
    return this.connectGuest(record, signal);
  }

  private connectGuest(record: WorkspaceRecord, signal?: AbortSignal): Promise<G> {
    const adopt = async () => (await this.runtimeOf(record).adopt(record.id, this.runDir(record.id)))?.endpoint;
    return this.guests.connect(record, adopt, signal);
  }

  /** Forget a broken connection so the next call reconnects. */
  async dropGuest(id: string): Promise<void> {
    await this.guests.drop(id);
  }

  /** Tells `lifecycle` whenever a workspace starts running or is about to stop (port forwards). */
  observe(lifecycle: WorkspaceLifecycle): void {
    this.lifecycle = lifecycle;
  }

  /** Lets `pool` serve the creates that match it (engine.ts builds it after reconcile). */
  usePool(pool: Pick<WarmPool<G>, "claim" | "dropForks">): void {
    this.pool = pool;
  }

  async close(): Promise<void> {
    this.activity.close();
    await this.guests.dropAll();
  }

  // ---- internals shared with the snapshot/fork/reconcile modules ----

  runDir(id: string): string {
    return join(this.deps.stateDir, "run", id);
  }

  /** The disk quota to ask storage for; drivers without quotas (overlay) get none. */
  quotaFor(record: WorkspaceRecord): { quotaBytes?: number } {
    return this.deps.storage.capabilities.quotas ? { quotaBytes: record.diskBytes } : {};
  }

  runtimeOf(record: Pick<WorkspaceRecord, "runtime">): WorkspaceRuntime {
    const runtime = this.deps.runtimes[record.runtime];
    if (!runtime) throw new AgentisoError("UNSUPPORTED", `runtime ${record.runtime} is not available on this machine (see \`agentiso check\`)`);
    return runtime;
  }

  setState(record: WorkspaceRecord, to: WorkspaceState): void {
    assertTransition(record.name, record.state, to);
    this.db.updateWorkspace(record.id, { state: to });
    record.state = to;
    this.deps.events?.stateChanged?.();
  }
  // A new record (state `creating`) for a runtime this engine has; see newWorkspaceRecord.
  newRecord(options: CreateWorkspaceOptions, forkedFrom?: WorkspaceRecord["forkedFrom"], template?: WorkspaceRecord): WorkspaceRecord {
    this.runtimeOf({ runtime: options.runtime ?? template?.runtime ?? this.defaults.runtime });
    return newWorkspaceRecord(options, this.defaults, forkedFrom, template);
  }

  // A VM's kernel holds written data in its page cache: have it written to the disk before the
  // machine is stopped, whatever way the runtime then ends it. Best effort: a dead guest has
  // nothing left to flush.
  private async flushGuestDisk(record: WorkspaceRecord): Promise<void> {
    if (record.state !== "running" || !this.runtimeOf(record).guestCachesWrites) return;
    try {
      await this.deps.guests.syncDisk(await this.guest(record.id), AbortSignal.timeout(60_000));
    } catch (err) {
      this.deps.logger.warn("could not flush the guest's disk before stopping it", { workspace: record.id, err });
    }
  }

  // Starts the runtime for a record whose volume exists; marks it failed if that fails.
  async boot(record: WorkspaceRecord, fromTemplate?: { memoryPath: string }): Promise<WorkspaceRecord> {
    this.setState(record, "starting");
    const started = performance.now();
    let instance: RuntimeInstance;
    try {
      await mkdir(this.runDir(record.id), { recursive: true });
      instance = await this.runtimeOf(record).start({
        workspaceId: record.id,
        hostname: record.name,
        rootfs: await this.deps.storage.rootfs(record.id),
        resources: resourcesOf(record),
        network: record.network, networkPolicy: networkPolicyOf(record),
        runDir: this.runDir(record.id),
        ...(fromTemplate && { fromTemplate }),
      });
    } catch (err) {
      this.db.updateWorkspace(record.id, { state: "failed", error: (err as Error).message });
      this.deps.events?.stateChanged?.();
      throw err;
    }
    this.guests.remember(record.id, instance.endpoint, instance.ready);
    if (instance.endpoint.configure) await this.connectOrFail(record, instance);
    else void this.connectGuest(record).catch(() => undefined); // hello while the caller hears back: its first exec finds it done
    this.db.updateWorkspace(record.id, { state: "running", pid: instance.pid, error: undefined });
    if (instance.ready) void this.whenReady(record, instance, instance.ready, started);
    else this.deps.events?.workspaceStarted?.({ runtime: record.runtime, durationMs: performance.now() - started });
    this.deps.events?.stateChanged?.();
    await this.lifecycle?.running(record.id);
    return this.get(record.id);
  }

  // A start that returned before its agent listened: the start metric once it does (a new init
  // pid if it fell back to the guest's node); failed, with the reason, if it never will.
  private async whenReady(record: WorkspaceRecord, instance: RuntimeInstance, ready: Promise<{ pid: number }>, started: number): Promise<void> {
    try {
      const { pid } = await ready;
      this.deps.events?.workspaceStarted?.({ runtime: record.runtime, durationMs: performance.now() - started });
      if (pid !== instance.pid && this.db.getWorkspace(record.id)?.pid === instance.pid) this.db.updateWorkspace(record.id, { pid });
    } catch (err) {
      const current = this.db.getWorkspace(record.id);
      if (current?.state !== "running" || current.pid !== instance.pid) return; // stopped or destroyed meanwhile: nothing failed
      this.deps.logger.warn("workspace agent never listened", { workspace: record.id, err: (err as Error).message });
      this.db.updateWorkspace(record.id, { state: "failed", error: (err as Error).message });
      this.deps.events?.stateChanged?.();
    }
  }

  // A guest that must be told something at start (a VM's hostname, clock, entropy) is only
  // running once it has been: connect now, so create fails here rather than at the first exec.
  private async connectOrFail(record: WorkspaceRecord, instance: RuntimeInstance): Promise<void> {
    try {
      await this.connectGuest(record);
    } catch (err) {
      this.db.updateWorkspace(record.id, { state: "failed", pid: instance.pid, error: (err as Error).message });
      this.deps.events?.stateChanged?.();
      throw err;
    }
  }
  // Removes every trace of a workspace that never became usable.
  async discard(record: WorkspaceRecord): Promise<void> {
    const log = this.deps.logger;
    await this.dropGuest(record.id);
    await this.runtimeOf(record)
      .stop(record.id, { timeoutMs: 1000 })
      .catch((err: unknown) => log.warn("discard: runtime stop failed", { workspace: record.id, err }));
    const volumes = await this.deps.storage.listWorkspaces().catch(() => []);
    if (volumes.some((v) => v.name === record.id)) {
      await this.deps.storage.destroyWorkspace(record.id).catch((err: unknown) => log.warn("discard: volume destroy failed", { workspace: record.id, err }));
    }
    await rm(this.runDir(record.id), { recursive: true, force: true });
    this.db.deleteWorkspace(record.id);
    this.deps.events?.stateChanged?.();
  }
}
