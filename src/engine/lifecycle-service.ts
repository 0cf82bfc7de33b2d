// What a caller may do to a workspace's life besides start, stop and destroy: pause it (every
// process frozen, memory kept, no CPU), resume it, change its ttl and idle timeout, and keep it
// from being reaped while something uses it (an orchestration's golden). Pause and resume take
// the workspace service's lock, so they never overlap a stop or destroy of the same workspace.
import { AgentisoError } from "../core/errors.js";
import type { EngineDeps, GuestLink } from "./engine-deps.js";
import { changedLifecycle, type LifecycleChange } from "./lifecycle.js";
import type { StateDb } from "./state-db.js";
import type { WorkspaceRecord } from "./workspace-record.js";
import type { WorkspaceService } from "./workspace-service.js";
import { assertTransition } from "./workspace-state.js";

const CLOCK_SYNC_TIMEOUT_MS = 30_000;

export class LifecycleService<G extends GuestLink> {
  constructor(
    private readonly workspaces: WorkspaceService<G>,
    private readonly db: StateDb,
    private readonly deps: EngineDeps<G>,
    /** Told when limits change (the reaper looks again). */
    private readonly limitsChanged: () => void = () => {},
  ) {}

  // Freezes a running workspace; a paused one is left as it is.
  async pause(idOrName: string): Promise<WorkspaceRecord> {
    const { id } = this.workspaces.get(idOrName);
    return this.workspaces.lock.run([id], async () => {
      const current = this.workspaces.get(id);
      if (current.state === "paused") return current;
      assertTransition(current.name, current.state, "paused");
      const runtime = this.workspaces.runtimeOf(current);
      if (!runtime.pause) throw new AgentisoError("UNSUPPORTED", `the ${current.runtime} runtime cannot pause workspaces`);
      await runtime.pause(current.id);
      this.workspaces.setState(current, "paused");
      this.workspaces.activity.touch(current.id);
      this.deps.logger.info("workspace paused", { workspace: current.id });
      return this.workspaces.get(current.id);
    });
  }

  // Thaws a paused workspace; a running one is left as it is. A VM's clock, stopped with it, is set again.
  async resume(idOrName: string): Promise<WorkspaceRecord> {
    const { id } = this.workspaces.get(idOrName);
    return this.workspaces.lock.run([id], async () => {
      const current = this.workspaces.get(id);
      if (current.state === "running") return current;
      if (current.state !== "paused") {
        throw new AgentisoError("INVALID_STATE", `workspace ${current.name} is ${current.state}, not paused${current.state === "stopped" ? `: start it instead (agentiso workspace start ${current.name})` : ""}`, {
          details: { workspace: current.name, state: current.state },
        });
      }
      const runtime = this.workspaces.runtimeOf(current);
      if (!runtime.resume) throw new AgentisoError("UNSUPPORTED", `the ${current.runtime} runtime cannot resume workspaces`);
      const { clockStopped } = await runtime.resume(current.id);
      this.workspaces.setState(current, "running");
      this.workspaces.activity.touch(current.id);
      if (clockStopped) await this.syncClock(current);
      this.deps.logger.info("workspace resumed", { workspace: current.id });
      return this.workspaces.get(current.id);
    });
  }

  // Changes the ttl and idle timeout (null removes one); a new ttl counts from now.
  setLimits(idOrName: string, change: LifecycleChange): WorkspaceRecord {
    const record = this.workspaces.get(idOrName);
    this.db.setLifecycle(record.id, changedLifecycle(record.lifecycle, change, Date.now()));
    this.workspaces.activity.touch(record.id);
    this.limitsChanged();
    return this.workspaces.get(record.id);
  }

  // Use of the workspace now: its idle clock starts again.
  touch(id: string): void {
    this.workspaces.activity.touch(id);
  }

  // Keeps the reaper away from the workspace until disposed (it is busy meanwhile); a limit that ran out meanwhile acts then.
  hold(id: string): Disposable {
    const hold = this.workspaces.activity.hold(id);
    return { [Symbol.dispose]: () => (hold[Symbol.dispose](), this.limitsChanged()) };
  }

  // Best effort: a guest that cannot be told keeps running with its clock behind.
  private async syncClock(record: WorkspaceRecord): Promise<void> {
    if (!this.deps.guests.syncClock) return;
    try {
      const signal = AbortSignal.timeout(CLOCK_SYNC_TIMEOUT_MS);
      await this.deps.guests.syncClock(await this.workspaces.guest(record.id, signal), signal);
    } catch (err) {
      this.deps.logger.warn("could not set the clock of a resumed workspace", { workspace: record.id, err });
    }
  }
}
