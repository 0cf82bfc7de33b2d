// The state dir holds the database, the pool mount, the run dirs and the control socket, and
// below it every workspace's files: owned by the unprivileged uid root inside a container maps
// to, and written by code nobody reviewed. No other local user may reach any of it, so its
// mode is 0710 root:<the workspaces' gid>: root owns it, the workspaces' root (which must
// traverse it: runc mounts the rootfs and the run dir from inside the user namespace) may
// pass through it, and everyone else is stopped at the door — a setuid file or a world-
// readable secret planted below it is out of their reach. (Its group is that range's first
// gid, which no local user has.)
import { chmodSync, chownSync, mkdirSync } from "node:fs";

export const STATE_DIR_MODE = 0o710;

export interface StateDirOptions {
  /** The host gid of root inside container workspaces (config runtime.uidShiftBase): the only group that may traverse. */
  workspaceGid?: number;
}

// Creates the state dir if needed and sets its owner and mode. Without workspaceGid (engines
// built from parts, e.g. in tests) an existing dir keeps its owner and mode; a new one is 0700.
export function ensureStateDir(path: string, options: StateDirOptions = {}): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (options.workspaceGid !== undefined) restrictToWorkspaces(path, options.workspaceGid);
  return path;
}

// Makes an existing dir 0710 root:<workspaceGid>: only root lists it, only the workspaces' root
// passes through. Storage drivers do the same to their dir in a pool that may lie elsewhere.
export function restrictToWorkspaces(path: string, workspaceGid: number): void {
  chownSync(path, 0, workspaceGid);
  chmodSync(path, STATE_DIR_MODE);
}
