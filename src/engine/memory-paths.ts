// Where a workspace's memory snapshots keep their saved machines (memory-snapshots.ts): one
// folder per workspace, removed with it, one file per snapshot.
import { join } from "node:path";

export function memoryDirOf(stateDir: string, workspaceId: string): string {
  return join(stateDir, "memory", workspaceId);
}

export function memoryPathOf(stateDir: string, workspaceId: string, snapshot: string): string {
  return join(memoryDirOf(stateDir, workspaceId), `${snapshot}.bin`);
}
