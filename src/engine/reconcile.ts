// After a crash or restart the database and the host may disagree. Reconcile makes them
// agree again: running workspaces are adopted, dead ones marked stopped, operations cut off
// half-way are finished or undone, and tagged host resources nobody owns are reaped.
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../core/logger.js";
import { TEMPLATE_VOLUME_PREFIX } from "./boot-templates.js";
import type { EngineDeps, GuestLink } from "./engine-deps.js";
import type { StateDb } from "./state-db.js";
import { networkPolicyOf, type WorkspaceRecord } from "./workspace-record.js";
import type { WorkspaceService } from "./workspace-service.js";

export interface ReconcileReport {
  adopted: string[];
  markedStopped: string[];
  discarded: string[];
  reapedInstances: string[];
  reapedVolumes: string[];
  /** "workspace@snapshot": taken in storage but never recorded (removed, so the name is free), or recorded but gone from storage (row dropped). */
  repairedSnapshots: string[];
}

export async function reconcile<G extends GuestLink>(svc: WorkspaceService<G>, db: StateDb, deps: EngineDeps<G>): Promise<ReconcileReport> {
  const report: ReconcileReport = { adopted: [], markedStopped: [], discarded: [], reapedInstances: [], reapedVolumes: [], repairedSnapshots: [] };
  for (const record of db.listWorkspaces()) {
    await reconcileOne(svc, db, record, report, deps.logger);
  }
  const known = new Set(db.listWorkspaces().map((r) => r.id));
  const running = new Set(db.listWorkspaces({ states: ["running", "paused"] }).map((r) => r.id));
  for (const [kind, runtime] of Object.entries(deps.runtimes)) {
    if (!runtime) continue;
    for (const id of await runtime.listInstances()) {
      // both runtimes name their cgroups tag.name("ws", id): a running container's cgroup is listed
      // by the vm runtime too, and is nobody's orphan (its "reap" stalled every start 5 s per container)
      if (running.has(id)) continue;
      deps.logger.warn("reconcile: reaping orphan instance", { workspace: id, runtime: kind });
      await runtime.stop(id, { timeoutMs: 1000 }).catch((err: unknown) => deps.logger.error("reconcile: reap failed", { workspace: id, err }));
      report.reapedInstances.push(id);
    }
  }
  for (const volume of await deps.storage.listWorkspaces()) {
    if (known.has(volume.name)) {
      await reconcileSnapshots(db.getWorkspace(volume.name)!, volume.snapshots, db, deps, report);
      continue;
    }
    if (volume.name.startsWith(TEMPLATE_VOLUME_PREFIX)) continue;
    deps.logger.warn("reconcile: reaping orphan volume", { volume: volume.name });
    await deps.storage.destroyWorkspace(volume.name).catch((err: unknown) => deps.logger.error("reconcile: volume reap failed", { volume: volume.name, err }));
    report.reapedVolumes.push(volume.name);
  }
  await reapStrayMemoryFiles(db, deps);
  return report;
}

// Memory files whose snapshot was never recorded (a daemon killed mid-snapshot) or whose
// workspace is gone (killed mid-destroy) hold guest RAM for nobody: removed.
async function reapStrayMemoryFiles<G extends GuestLink>(db: StateDb, deps: EngineDeps<G>): Promise<void> {
  const root = join(deps.stateDir, "memory");
  for (const workspaceId of await readdir(root).catch(() => [] as string[])) {
    const wanted = new Set((db.getWorkspace(workspaceId)?.id === workspaceId ? db.listSnapshots(workspaceId) : []).filter((s) => s.memory).map((s) => `${s.name}.bin`));
    for (const file of await readdir(join(root, workspaceId)).catch(() => [] as string[])) {
      if (wanted.has(file)) continue;
      deps.logger.warn("reconcile: removing a memory file no snapshot owns", { workspace: workspaceId, file });
      await rm(join(root, workspaceId, file), { force: true });
    }
    if (wanted.size === 0) await rm(join(root, workspaceId), { recursive: true, force: true });
  }
}

// A snapshot is taken in storage first and recorded after (snapshot-service.ts); a daemon killed
// between the two left a storage snapshot nobody knows of, whose name `snapshot` would then
// refuse for ever: it is removed (its creation never succeeded for the caller), so the name is
// free again. A row whose storage snapshot is gone (a delete cut off half-way) is dropped.
async function reconcileSnapshots<G extends GuestLink>(
  record: WorkspaceRecord,
  inStorage: readonly string[] | undefined,
  db: StateDb,
  deps: EngineDeps<G>,
  report: ReconcileReport,
): Promise<void> {
  if (!inStorage) return; // a driver that does not list them
  const rows = new Set(db.listSnapshots(record.id).map((s) => s.name));
  for (const name of inStorage.filter((s) => !rows.has(s))) {
    deps.logger.warn("reconcile: removing a snapshot that was never recorded", { workspace: record.id, snapshot: name });
    try {
      await deps.storage.deleteSnapshot(record.id, name);
      report.repairedSnapshots.push(`${record.name}@${name}`);
    } catch (err) {
      deps.logger.error("reconcile: snapshot removal failed", { workspace: record.id, snapshot: name, err });
    }
  }
  const stored = new Set(inStorage);
  for (const name of [...rows].filter((s) => !stored.has(s))) {
    if (db.forksOf(record.id, name).length > 0) continue; // forks keep their own volumes; the row names their origin
    deps.logger.warn("reconcile: dropping the record of a snapshot storage no longer has", { workspace: record.id, snapshot: name });
    db.deleteSnapshot(record.id, name);
    report.repairedSnapshots.push(`${record.name}@${name}`);
  }
}

async function reconcileOne<G extends GuestLink>(
  svc: WorkspaceService<G>,
  db: StateDb,
  record: WorkspaceRecord,
  report: ReconcileReport,
  logger: Logger,
): Promise<void> {
  switch (record.state) {
    case "creating":
    case "destroying":
      // Cut off half-way: a create or fork never finished, or a destroy did not. Undo/finish.
      logger.warn("reconcile: discarding unfinished workspace", { workspace: record.id, state: record.state });
      await svc.discard(record);
      report.discarded.push(record.name);
      return;
    case "running":
    case "paused":
    case "starting":
    case "stopping": {
      const runtime = svc.runtimeOf(record);
      const instance = await runtime.adopt(record.id, svc.runDir(record.id)).catch(() => undefined);
      if (instance && record.state !== "stopping") {
        // the runtime knows: a pause cut off before it was recorded, or a paused one thawed behind our back
        const paused = (await runtime.isPaused?.(record.id).catch(() => undefined)) ?? record.state === "paused";
        db.updateWorkspace(record.id, { state: paused ? "paused" : "running", pid: instance.pid });
        // an allowlist's DNS gate lived in the previous daemon: until it is back, names resolve nowhere
        if (record.network === "allowlist") {
          await runtime.setNetwork(record.id, record.network, networkPolicyOf(record)).catch((err: unknown) => logger.warn("reconcile: allowlist not applied again", { workspace: record.id, err }));
        }
        report.adopted.push(record.name);
      } else {
        await svc.runtimeOf(record).stop(record.id, { timeoutMs: 1000 }).catch(() => {});
        db.updateWorkspace(record.id, { state: "stopped", pid: undefined });
        report.markedStopped.push(record.name);
      }
      return;
    }
    default:
      return;
  }
}
