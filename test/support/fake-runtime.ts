// An in-memory WorkspaceRuntime for engine unit tests. "Instances" are map entries; a test can
// make one die (crash) or make the next start fail.
import { AgentisoError } from "../../src/core/errors.js";
import type { NetworkMode, RuntimeInstance, RuntimeStartSpec, WorkspaceRuntime } from "../../src/runtimes/workspace-runtime.js";

export class FakeRuntime implements WorkspaceRuntime {
  readonly kind = "container" as const;
  readonly guestCachesWrites = false;
  readonly instances = new Map<string, RuntimeInstance & { network: NetworkMode; paused?: boolean }>();
  failNextStart = false;
  /** Makes the next start return before its agent listens: its RuntimeInstance.ready. */
  readyOfNextStart: ((pid: number) => Promise<{ pid: number }>) | undefined;
  private nextPid = 1000;

  async check() {
    return [];
  }
  async start(spec: RuntimeStartSpec): Promise<RuntimeInstance> {
    if (this.failNextStart) {
      this.failNextStart = false;
      throw new AgentisoError("BACKEND_FAILED", "injected start failure");
    }
    const instance = {
      workspaceId: spec.workspaceId,
      runtime: this.kind,
      pid: this.nextPid++,
      endpoint: { kind: "unix" as const, path: `${spec.runDir}/agent.sock`, singleStream: false },
      network: spec.network,
    };
    this.instances.set(spec.workspaceId, instance);
    const ready = this.readyOfNextStart?.(instance.pid);
    this.readyOfNextStart = undefined;
    return ready ? { ...instance, ready } : instance;
  }
  async stop(workspaceId: string): Promise<void> {
    this.instances.delete(workspaceId);
  }
  async adopt(workspaceId: string): Promise<RuntimeInstance | undefined> {
    return this.instances.get(workspaceId);
  }
  async setNetwork(workspaceId: string, mode: NetworkMode): Promise<void> {
    const instance = this.instances.get(workspaceId);
    if (!instance) throw new AgentisoError("INVALID_STATE", "not running");
    instance.network = mode;
  }
  async logs(workspaceId: string): Promise<string> {
    return `log of ${workspaceId}\n`;
  }
  async logFile(workspaceId: string): Promise<string> {
    throw new AgentisoError("NOT_FOUND", `the fake runtime keeps no log file for ${workspaceId}`);
  }
  async listInstances(): Promise<string[]> {
    return [...this.instances.keys()];
  }
  async pause(workspaceId: string): Promise<void> {
    this.running(workspaceId).paused = true;
  }
  async resume(workspaceId: string): Promise<{ clockStopped: boolean }> {
    this.running(workspaceId).paused = false;
    return { clockStopped: false };
  }
  async isPaused(workspaceId: string): Promise<boolean> {
    return this.instances.get(workspaceId)?.paused === true;
  }
  private running(workspaceId: string) {
    const instance = this.instances.get(workspaceId);
    if (!instance) throw new AgentisoError("INVALID_STATE", "not running");
    return instance;
  }
  /** Simulates the workspace dying behind the engine's back. */
  crash(workspaceId: string): void {
    this.instances.delete(workspaceId);
  }
}

/** The openTunnel of a fake guest connector that has no guest to connect into. */
export async function noTunnels(): Promise<never> {
  throw new AgentisoError("UNSUPPORTED", "the fake guest has no tunnels");
}
