// A workspace's lifecycle limits: a time to live (an absolute deadline) and an idle timeout
// (measured from its last activity), each with what happens when it runs out — stop or destroy.
// Pure: the record's limits as stored and shown, changes to them, and which are due when. The
// reaper (lifecycle-reaper.ts) acts on dueLimits; workspace_info shows the same deadlines.
import { AgentisoError } from "../core/errors.js";
import type { ExpireAction } from "../config/lifecycle-config.js";
import type { WorkspaceState } from "./workspace-state.js";

export type { ExpireAction } from "../config/lifecycle-config.js";
export type ExpireReason = "ttl" | "idle";

/** The limits as stored in a record and shown by every front door. */
export interface WorkspaceLifecycle {
  /** At `at` the workspace is stopped (once; the ttl is then cleared) or destroyed, whatever it is doing. */
  ttl?: { action: ExpireAction; at: string };
  /** After timeoutSeconds without activity; `at` is when that is, absent where the action does not apply (a stopped workspace is not stopped again). */
  idle?: { action: ExpireAction; timeoutSeconds: number; lastActivityAt: string; at?: string };
}

/** Limits as a caller asks for them, in seconds. */
export interface LifecycleLimits {
  ttl?: { seconds: number; action: ExpireAction };
  idle?: { seconds: number; action: ExpireAction };
}

/** A change to one limit: null removes it, a missing field keeps what is set. */
export type LimitChange = { seconds?: number; action?: ExpireAction } | null;
export interface LifecycleChange {
  ttl?: LimitChange;
  idle?: LimitChange;
}

export interface DueLimit {
  reason: ExpireReason;
  action: ExpireAction;
  atMs: number;
}

/** States in which nothing is under way, so a limit may act. */
const SETTLED: readonly WorkspaceState[] = ["running", "paused", "stopped", "failed"];

// The stored limits of a new workspace (or one handed out of the warm pool) at nowMs.
export function lifecycleOf(limits: LifecycleLimits | undefined, nowMs: number): WorkspaceLifecycle | undefined {
  if (!limits?.ttl && !limits?.idle) return undefined;
  const lastActivityAt = new Date(nowMs).toISOString();
  return {
    ...(limits.ttl && { ttl: { action: limits.ttl.action, at: new Date(nowMs + limits.ttl.seconds * 1000).toISOString() } }),
    ...(limits.idle && { idle: { action: limits.idle.action, timeoutSeconds: limits.idle.seconds, lastActivityAt } }),
  };
}

// The limits after a change made at nowMs: a new ttl counts from now; an action alone changes
// what a set limit does (INVALID_INPUT when that limit is not set).
export function changedLifecycle(current: WorkspaceLifecycle | undefined, change: LifecycleChange, nowMs: number): WorkspaceLifecycle | undefined {
  const next: WorkspaceLifecycle = { ...current };
  if (change.ttl === null) delete next.ttl;
  else if (change.ttl) {
    const action = change.ttl.action ?? current?.ttl?.action ?? "destroy";
    if (change.ttl.seconds !== undefined) next.ttl = { action, at: new Date(nowMs + change.ttl.seconds * 1000).toISOString() };
    else if (current?.ttl) next.ttl = { ...current.ttl, action };
    else throw new AgentisoError("INVALID_INPUT", "the workspace has no ttl to change the action of: give ttl too");
  }
  if (change.idle === null) delete next.idle;
  else if (change.idle) {
    const action = change.idle.action ?? current?.idle?.action ?? "stop";
    const timeoutSeconds = change.idle.seconds ?? current?.idle?.timeoutSeconds;
    if (timeoutSeconds === undefined) throw new AgentisoError("INVALID_INPUT", "the workspace has no idle timeout to change the action of: give idleTimeout too");
    next.idle = { action, timeoutSeconds, lastActivityAt: new Date(nowMs).toISOString() };
  }
  return next.ttl || next.idle ? next : undefined;
}

// The limits with the idle deadline worked out from the last activity, for a workspace in `state`.
export function withIdleDeadline(lifecycle: WorkspaceLifecycle | undefined, state: WorkspaceState, lastActivityMs: number): WorkspaceLifecycle | undefined {
  if (!lifecycle?.idle) return lifecycle;
  const { at: _old, ...idle } = lifecycle.idle;
  const updated = { ...idle, lastActivityAt: new Date(lastActivityMs).toISOString() };
  const applies = idleApplies(idle.action, state);
  return { ...lifecycle, idle: applies ? { ...updated, at: new Date(lastActivityMs + idle.timeoutSeconds * 1000).toISOString() } : updated };
}

// The limits of a workspace in `state` whose deadline has come at nowMs, ttl first.
export function dueLimits(lifecycle: WorkspaceLifecycle | undefined, state: WorkspaceState, nowMs: number): DueLimit[] {
  return deadlines(lifecycle, state).filter((d) => d.atMs <= nowMs);
}

// Every deadline that can act in `state` (due or not), ttl first.
export function deadlines(lifecycle: WorkspaceLifecycle | undefined, state: WorkspaceState): DueLimit[] {
  if (!lifecycle || !SETTLED.includes(state)) return [];
  const found: DueLimit[] = [];
  if (lifecycle.ttl) found.push({ reason: "ttl", action: lifecycle.ttl.action, atMs: Date.parse(lifecycle.ttl.at) });
  const idle = lifecycle.idle;
  if (idle && idleApplies(idle.action, state)) found.push({ reason: "idle", action: idle.action, atMs: Date.parse(idle.lastActivityAt) + idle.timeoutSeconds * 1000 });
  return found;
}

// Idleness stops only what runs (paused counts: it holds its memory); it destroys whatever is settled.
function idleApplies(action: ExpireAction, state: WorkspaceState): boolean {
  if (!SETTLED.includes(state)) return false;
  return action === "destroy" || state === "running" || state === "paused";
}
