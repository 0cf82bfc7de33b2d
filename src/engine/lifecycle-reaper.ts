// Acts on lifecycle limits (lifecycle.ts): when a workspace's ttl or idle timeout runs out it is
// stopped or destroyed, logged and counted (EngineEvents.workspaceReaped). The deadlines live
// in SQLite, so a daemon started after one passed reaps at its first sweep, right after
// reconcile. Never reaped: warm-pool workspaces (they have no limits and are not listed), held
// ones (an orchestration's golden; its workers get no limits, the orchestrator destroys them),
// and — for idleness — one whose agent runs a request or a background job right now: that
// counts as activity, so a long command is never stopped half-way for want of calls. A request
// tells when it ends; a background job does not, so while one runs it is asked again every
// tenth of the timeout (1 s to 1 min): the workspace stops about one timeout after the job ended.
import type { Logger } from "../core/logger.js";
import type { EngineDeps, GuestLink } from "./engine-deps.js";
import { changedLifecycle, deadlines, dueLimits, type DueLimit } from "./lifecycle.js";
import type { StateDb } from "./state-db.js";
import type { WorkspaceRecord } from "./workspace-record.js";
import type { WorkspaceService } from "./workspace-service.js";

/** The longest sleep between sweeps (state changes and limit changes wake the reaper sooner). */
const MAX_SLEEP_MS = 5_000;
const MIN_SLEEP_MS = 250;
/** After a failed reap (a destroy refused while forks exist): wait this long, doubling up to an hour. */
const FIRST_RETRY_MS = 60_000;
const MAX_RETRY_MS = 3_600_000;
const JOB_CHECK_TIMEOUT_MS = 10_000;
const MAX_JOB_RECHECK_MS = 60_000;

export interface ReaperOptions<G extends GuestLink> {
  workspaces: WorkspaceService<G>;
  db: StateDb;
  deps: EngineDeps<G>;
  now?: () => number;
}

export class LifecycleReaper<G extends GuestLink> {
  private timer: NodeJS.Timeout | undefined;
  private scheduledAtMs = Infinity;
  private sweeping: Promise<void> | undefined;
  private closed = false;
  private readonly retries = new Map<string, { atMs: number; delayMs: number }>();
  /** Workspaces last seen running a background job, and when to ask again. */
  private readonly jobWatch = new Map<string, number>();
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(private readonly options: ReaperOptions<G>) {
    this.logger = options.deps.logger.child({ component: "reaper" });
    this.now = options.now ?? Date.now;
  }

  // Sweeps now, then whenever the next deadline comes (at least every MAX_SLEEP_MS).
  start(): void {
    this.schedule(0);
  }

  // Limits or states changed: look again soon (a burst of changes makes one sweep, and never postpones one).
  wake(): void {
    if (this.sweeping || this.scheduledAtMs <= this.now() + MIN_SLEEP_MS) return;
    this.schedule(MIN_SLEEP_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.sweeping;
  }

  // One pass over every workspace: each due limit is acted on, at most one per workspace.
  async sweep(): Promise<void> {
    for (const { id } of this.options.workspaces.list()) {
      if (this.closed) return;
      await this.watchJobs(id);
      const record = this.current(id);
      const due = record && this.dueOf(record);
      if (!record || !due) continue;
      if (due.reason === "idle" && record.state === "running" && (this.options.workspaces.activity.busy(id) || (await this.jobsRunning(record)))) {
        this.options.workspaces.activity.touch(id);
        continue;
      }
      // read again: a call may have used it while the agent was asked
      const again = this.current(id);
      if (again && this.dueOf(again)?.reason === due.reason) await this.reap(again, due);
    }
  }

  // The first due limit the reaper may act on now: none while held or waiting to retry.
  private dueOf(record: WorkspaceRecord): DueLimit | undefined {
    if (this.options.workspaces.activity.held(record.id) || (this.retries.get(record.id)?.atMs ?? 0) > this.now()) return undefined;
    return dueLimits(record.lifecycle, record.state, this.now())[0];
  }

  private current(id: string): WorkspaceRecord | undefined {
    try {
      return this.options.workspaces.get(id);
    } catch {
      return undefined; // destroyed meanwhile
    }
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.closed) return;
    this.scheduledAtMs = this.now() + delayMs;
    this.timer = setTimeout(() => this.run(), delayMs).unref();
  }

  private run(): void {
    this.scheduledAtMs = Infinity;
    if (this.sweeping || this.closed) return;
    this.sweeping = this.sweep()
      .catch((err: unknown) => this.logger.error("lifecycle sweep failed", { err }))
      .finally(() => {
        this.sweeping = undefined;
        this.schedule(this.nextSleepMs());
      });
  }

  // Until the earliest deadline or retry, within [MIN_SLEEP_MS, MAX_SLEEP_MS].
  private nextSleepMs(): number {
    const now = this.now();
    let next = now + MAX_SLEEP_MS;
    for (const record of this.options.workspaces.list()) {
      if (this.options.workspaces.activity.held(record.id)) continue;
      const retryAtMs = this.retries.get(record.id)?.atMs ?? 0;
      next = Math.min(next, this.jobWatch.get(record.id) ?? Infinity);
      for (const deadline of deadlines(record.lifecycle, record.state)) next = Math.min(next, Math.max(deadline.atMs, retryAtMs));
    }
    return Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, next - now));
  }

  // Whether a background job runs in the guest; if so, it is asked again before long (watchJobs).
  private async jobsRunning(record: WorkspaceRecord): Promise<boolean> {
    const { workspaces, deps } = this.options;
    if (record.state !== "running" || !deps.guests.hasRunningJobs) return false;
    let running = false;
    try {
      const signal = AbortSignal.timeout(JOB_CHECK_TIMEOUT_MS);
      running = await deps.guests.hasRunningJobs(await workspaces.guest(record.id, signal), signal);
    } catch (err) {
      this.logger.debug("could not ask the agent for running jobs; treating the workspace as idle", { workspace: record.id, err });
    }
    const timeoutMs = (record.lifecycle?.idle?.timeoutSeconds ?? 0) * 1000;
    if (running) this.jobWatch.set(record.id, this.now() + Math.min(MAX_JOB_RECHECK_MS, Math.max(1000, timeoutMs / 10)));
    else this.jobWatch.delete(record.id);
    return running;
  }

  // A workspace seen running a job stays active while the job runs: asked again when its time comes.
  private async watchJobs(id: string): Promise<void> {
    const atMs = this.jobWatch.get(id);
    if (atMs === undefined || atMs > this.now()) return;
    const record = this.current(id);
    if (record && (await this.jobsRunning(record))) this.options.workspaces.activity.touch(id);
    else this.jobWatch.delete(id);
  }

  private async reap(record: WorkspaceRecord, due: DueLimit): Promise<void> {
    const { workspaces, db, deps } = this.options;
    const fields = { workspace: record.id, name: record.name, owner: record.owner, reason: due.reason, action: due.action, deadline: new Date(due.atMs).toISOString(), state: record.state };
    try {
      if (due.action === "destroy") await workspaces.destroy(record.id);
      else if (record.state === "running" || record.state === "paused") await workspaces.stop(record.id);
      // a ttl that stops acts once: the workspace may be started again
      if (due.action === "stop" && due.reason === "ttl") db.setLifecycle(record.id, changedLifecycle(workspaces.get(record.id).lifecycle, { ttl: null }, this.now()));
      this.retries.delete(record.id);
      if (due.action === "stop" && record.state !== "running" && record.state !== "paused") {
        this.logger.info("ttl ran out on a workspace that was not running: ttl cleared", fields);
        return;
      }
      this.logger.info("workspace reaped", { ...fields, overdueMs: Math.max(0, this.now() - due.atMs) });
      deps.events?.workspaceReaped?.({ action: due.action, reason: due.reason });
    } catch (err) {
      const delayMs = Math.min(MAX_RETRY_MS, (this.retries.get(record.id)?.delayMs ?? FIRST_RETRY_MS / 2) * 2);
      this.retries.set(record.id, { atMs: this.now() + delayMs, delayMs });
      this.logger.warn("workspace reap failed; trying again later", { ...fields, err, retryInMs: delayMs });
    }
  }
}
