// The workspace lifecycle as a table of allowed transitions. Every state change goes through
// assertTransition, so an invalid request ("exec on a stopped workspace", "start while
// destroying") fails with a clear INVALID_STATE instead of half-happening.
import { AgentisoError } from "../core/errors.js";

export const WORKSPACE_STATES = ["creating", "starting", "running", "paused", "stopping", "stopped", "destroying", "failed"] as const;
export type WorkspaceState = (typeof WORKSPACE_STATES)[number];

const TRANSITIONS: Record<WorkspaceState, readonly WorkspaceState[]> = {
  creating: ["starting", "stopped", "failed", "destroying"],
  starting: ["running", "failed", "stopped", "destroying"],
  running: ["paused", "stopping", "stopped", "failed", "destroying"],
  // frozen, memory kept (workspace_pause); stop and destroy thaw it first (the runtimes do)
  paused: ["running", "stopping", "stopped", "failed", "destroying"],
  stopping: ["stopped", "failed", "destroying"],
  stopped: ["starting", "destroying"],
  failed: ["starting", "stopped", "destroying"],
  destroying: ["failed"],
};

export function canTransition(from: WorkspaceState, to: WorkspaceState): boolean {
  return TRANSITIONS[from].includes(to);
}

// Throws INVALID_STATE naming the workspace, its state and what would make the request valid.
export function assertTransition(workspace: string, from: WorkspaceState, to: WorkspaceState): void {
  if (canTransition(from, to)) return;
  throw new AgentisoError("INVALID_STATE", `workspace ${workspace} is ${from}; it cannot become ${to}`, {
    details: { workspace, state: from, requested: to, allowed: TRANSITIONS[from] },
  });
}

// For operations that need a running agent (exec, files, env). A paused workspace is a
// CONFLICT (the caller paused it; resuming is theirs to decide), anything else INVALID_STATE.
export function assertRunning(workspace: string, state: WorkspaceState): void {
  if (state === "running") return;
  assertNotPaused(workspace, state);
  const hint = state === "stopped" || state === "failed" ? `: start it first (agentiso workspace start ${workspace})` : "";
  throw new AgentisoError("INVALID_STATE", `workspace ${workspace} is ${state}, not running${hint}`, {
    details: { workspace, state },
  });
}

// For changes a frozen workspace cannot take (exec, files, network, start): CONFLICT saying to resume it.
export function assertNotPaused(workspace: string, state: WorkspaceState): void {
  if (state !== "paused") return;
  throw new AgentisoError("CONFLICT", `workspace ${workspace} is paused: resume it first (workspace_resume, or agentiso workspace resume ${workspace})`, {
    details: { workspace, state },
  });
}
