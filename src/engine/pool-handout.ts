// The warm pool's view of the workspace service (PoolWorkspaces): the service's own calls, plus
// the hand-out — the row changed in one statement while still pooled, then the workspace made
// to answer to its new name inside (a container from the host, a VM through its agent).
import type { EngineDeps, GuestLink } from "./engine-deps.js";
import { lifecycleOf } from "./lifecycle.js";
import type { StateDb } from "./state-db.js";
import { POOL_OWNER, type PoolWorkspaces } from "./warm-pool.js";
import type { SnapshotService } from "./snapshot-service.js";
import type { WorkspaceService } from "./workspace-service.js";

export function poolWorkspaces<G extends GuestLink>(svc: WorkspaceService<G>, snapshots: SnapshotService<G>, db: StateDb, deps: EngineDeps<G>): PoolWorkspaces<G> {
  return {
    get: (id) => svc.get(id),
    list: (filter) => svc.list(filter),
    create: (options) => svc.create(options),
    fork: (originId, options) => snapshots.fork(originId, options),
    guest: (id, signal) => svc.guest(id, signal),
    destroy: (id) => svc.destroy(id),
    async warmUp(id, signal) {
      const deadline = AbortSignal.any([AbortSignal.timeout(30_000), ...(signal ? [signal] : [])]);
      await deps.guests.warmUp?.(await svc.guest(id, deadline), deadline);
    },
    assign(id, to) {
      const nowMs = Date.now();
      const at = new Date(nowMs).toISOString();
      const assigned = db.handOut(id, POOL_OWNER, { name: to.name, owner: to.owner, at, lifecycle: lifecycleOf(to.lifecycle, nowMs) });
      if (assigned) deps.events?.stateChanged?.();
      return assigned;
    },
    async rehost(record, signal) {
      const runtime = svc.runtimeOf(record);
      if (runtime.rename && record.pid !== undefined) await runtime.rename({ workspaceId: record.id, pid: record.pid, runDir: svc.runDir(record.id) }, record.name, signal);
      else await deps.guests.setHostname(await svc.guest(record.id, signal), record.name, signal);
    },
  };
}
