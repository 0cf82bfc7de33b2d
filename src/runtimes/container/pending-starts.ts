// Workspaces whose agent has not listened yet (container-launch.ts: start() returns before).
// stop() interrupts such a wait first, so the wait cannot take the stop for a failed start and
// start the workspace again.
export class PendingStarts {
  private readonly waits = new Map<string, { controller: AbortController; settled: Promise<unknown> }>();

  /** Tracks the wait for `ready`; `controller` aborts it. */
  track(workspaceId: string, controller: AbortController, ready: Promise<unknown>): void {
    this.waits.set(workspaceId, { controller, settled: ready.catch(() => undefined) });
  }

  /** Forgets the wait `controller` belongs to, if it is still the workspace's. */
  forget(workspaceId: string, controller: AbortController): void {
    if (this.waits.get(workspaceId)?.controller === controller) this.waits.delete(workspaceId);
  }

  /** Aborts the workspace's wait, if any, and resolves once it has settled. */
  async interrupt(workspaceId: string): Promise<void> {
    const wait = this.waits.get(workspaceId);
    if (!wait) return;
    this.waits.delete(workspaceId);
    wait.controller.abort();
    await wait.settled;
  }
}
