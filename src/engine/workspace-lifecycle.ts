// What else lives and dies with a running workspace (its port forwards' host listeners): told by
// the workspace service at every start and before every stop or destroy, under the workspace's lock.
export interface WorkspaceLifecycle {
  /** The workspace runs now (booted, restored, or adopted by a new daemon). Never throws. */
  running(workspaceId: string): Promise<void>;
  /** The workspace is about to stop or be destroyed: let go of what serves it. Never throws. */
  stopping(workspaceId: string): Promise<void>;
}
