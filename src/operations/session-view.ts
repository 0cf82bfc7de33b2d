// What an MCP session is told about workspaces it does not own: nothing, not even a name. The
// engine's answers can mention other workspaces (the forks of a snapshot, a fork's origin, the
// forks that block a destroy); for a session those are cut down to its own here. The host's
// root (no session) sees everything unchanged.
import { AgentisoError, isAgentisoError } from "../core/errors.js";
import type { SnapshotView } from "../engine/snapshot-service.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { OperationContext } from "./operation.js";

// A workspace record with its origin left out when that origin is not the session's.
export function recordView(ctx: OperationContext, record: WorkspaceRecord): WorkspaceRecord {
  if (ctx.session === undefined || record.forkedFrom === undefined || owns(ctx, record.forkedFrom.workspaceId)) return record;
  const { forkedFrom: _hidden, ...rest } = record;
  return rest;
}

// Snapshots with only the session's own forks among their dependents.
export function snapshotsView(ctx: OperationContext, snapshots: SnapshotView[]): SnapshotView[] {
  if (ctx.session === undefined) return snapshots;
  return snapshots.map((s) => ({ ...s, dependents: s.dependents.filter((name) => owns(ctx, name)) }));
}

// Runs fn; a CONFLICT naming forks (destroy, snapshot delete) names only the session's own.
// subject: what has the forks, for the message ("workspace w1", "snapshot s1 of w1").
export async function hidingForeignForks<T>(ctx: OperationContext, subject: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const forks = isAgentisoError(err, "CONFLICT") ? err.details?.forks : undefined;
    if (ctx.session === undefined || !Array.isArray(forks)) throw err;
    const own = forks.filter((name): name is string => typeof name === "string" && owns(ctx, name));
    const others = forks.length - own.length;
    const listed = [...own, ...(others > 0 ? [`${others} workspace${others === 1 ? "" : "s"} outside this session`] : [])].join(", ");
    throw new AgentisoError("CONFLICT", `${subject} has forks (${listed}): destroy them first`, { details: { forks: own, otherForks: others } });
  }
}

function owns(ctx: OperationContext, ref: string): boolean {
  try {
    return ctx.services.engine.workspaces.get(ref).owner === ctx.session;
  } catch {
    return false;
  }
}
