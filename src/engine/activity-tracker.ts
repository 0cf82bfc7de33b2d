// When each workspace was last used, for idle timeouts. Kept in memory, so an exec costs no
// database write: calls naming a workspace touch it here, its agent connection reports requests
// in flight and when the last one started or ended, and holds (an orchestration using its
// golden) count as activity until released. What matters for a limit is written to SQLite at
// most once per PERSIST_INTERVAL_MS and when the engine closes; a daemon killed in between
// loses at most that much of it (the next daemon then sees the workspace idle a little longer).
import type { GuestActivity } from "./engine-deps.js";
import { withIdleDeadline } from "./lifecycle.js";
import type { StateDb } from "./state-db.js";
import type { WorkspaceRecord } from "./workspace-record.js";

export const PERSIST_INTERVAL_MS = 60_000;

export interface ActivityTrackerOptions {
  db: StateDb;
  /** The workspace's agent connection, if one is open. */
  linkActivity: (id: string) => GuestActivity | undefined;
  /** The clock (tests pass their own). */
  now?: () => number;
}

export class ActivityTracker {
  private readonly touched = new Map<string, number>();
  private readonly holds = new Map<string, number>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ActivityTrackerOptions) {
    this.now = options.now ?? Date.now;
  }

  // Records use of the workspace now (a call naming it, a start, a resume).
  touch(id: string): void {
    const now = this.now();
    if (now > (this.touched.get(id) ?? 0)) this.touched.set(id, now);
  }

  // Keeps the workspace busy until disposed: the reaper leaves it alone and it is never idle meanwhile.
  hold(id: string): Disposable {
    this.holds.set(id, (this.holds.get(id) ?? 0) + 1);
    let released = false;
    return {
      [Symbol.dispose]: () => {
        if (released) return;
        released = true;
        const left = (this.holds.get(id) ?? 1) - 1;
        if (left > 0) this.holds.set(id, left);
        else this.holds.delete(id);
        this.touch(id);
      },
    };
  }

  held(id: string): boolean {
    return this.holds.has(id);
  }

  // Held, or its agent is running a request right now (an exec, a transfer).
  busy(id: string): boolean {
    return this.held(id) || (this.options.linkActivity(id)?.inFlight ?? 0) > 0;
  }

  // The last activity of a record as read from the database, brought up to date. A request
  // frozen with a paused workspace is no activity: a paused workspace is idle.
  lastActivityMs(record: WorkspaceRecord): number {
    if (this.held(record.id) || (record.state !== "paused" && this.busy(record.id))) return this.now();
    const stored = Date.parse(record.lifecycle?.idle?.lastActivityAt ?? record.createdAt);
    return Math.max(stored, this.touched.get(record.id) ?? 0, this.options.linkActivity(record.id)?.lastActivityMs ?? 0);
  }

  // The record with its idle deadline worked out from the up-to-date last activity.
  current(record: WorkspaceRecord): WorkspaceRecord {
    if (!record.lifecycle?.idle) return record;
    return { ...record, lifecycle: withIdleDeadline(record.lifecycle, record.state, this.lastActivityMs(record)) };
  }

  // Writes, every PERSIST_INTERVAL_MS, the last activity of the workspaces with an idle timeout.
  start(): void {
    this.timer ??= setInterval(() => this.persist(), PERSIST_INTERVAL_MS).unref();
  }

  // Stops the timer and writes what is newer than the database (the engine closes).
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.persist();
  }

  // One transaction for every workspace whose idle clock moved since the database last heard.
  persist(): void {
    const entries: Array<{ id: string; at: string }> = [];
    for (const record of this.options.db.listWorkspaces()) {
      if (!record.lifecycle?.idle) continue;
      const lastMs = this.lastActivityMs(record);
      if (lastMs > Date.parse(record.lifecycle.idle.lastActivityAt)) entries.push({ id: record.id, at: new Date(lastMs).toISOString() });
    }
    if (entries.length > 0) this.options.db.saveActivity(entries);
  }
}
