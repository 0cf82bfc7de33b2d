// The connected agents of running workspaces: one connection per workspace, made on first use
// and shared by every caller after; a failed connect is forgotten so the next call tries again.
import { AgentisoError } from "../core/errors.js";
import type { GuestEndpoint } from "../runtimes/workspace-runtime.js";
import type { GuestActivity, GuestConnector, GuestLink } from "./engine-deps.js";

export class GuestLinks<G extends GuestLink> {
  private readonly links = new Map<string, Promise<G>>();
  /** Endpoints of workspaces this engine booted: the first exec need not ask the runtime. */
  private readonly endpoints = new Map<string, GuestEndpoint>();
  /** Of those, the ones whose agent may not listen yet (RuntimeInstance.ready): a connect waits for it. */
  private readonly readiness = new Map<string, Promise<unknown>>();
  /** The links that connected, readable without waiting (activity). */
  private readonly connected = new Map<string, G>();
  /** Workspaces whose agent nobody may connect to now (whileDetached); a connect waits for the gate. */
  private readonly gates = new Map<string, Promise<void>>();

  constructor(private readonly connector: GuestConnector<G>) {}

  // Keeps the endpoint a start returned, for the first connect; `ready` settles once it listens or never will.
  remember(id: string, endpoint: GuestEndpoint, ready?: Promise<unknown>): void {
    this.endpoints.set(id, endpoint);
    if (!ready) return;
    this.readiness.set(id, ready);
    ready.then(() => this.readiness.get(id) === ready && this.readiness.delete(id), () => undefined);
  }

  // The workspace's connection; without a remembered endpoint `adopt` asks the runtime for one.
  async connect(workspace: { id: string; name: string }, adopt: () => Promise<GuestEndpoint | undefined>, signal?: AbortSignal): Promise<G> {
    for (let gate = this.gates.get(workspace.id); gate; gate = this.gates.get(workspace.id)) await gate;
    let link = this.links.get(workspace.id);
    if (!link) {
      const endpoint = this.endpoints.get(workspace.id) ?? (await adopt());
      if (!endpoint) throw new AgentisoError("GUEST_UNREACHABLE", `workspace ${workspace.name} is not running any more (see \`agentiso workspace logs ${workspace.name}\`)`);
      const connect = () => this.connector.connect(endpoint, { workspace: workspace.name, signal });
      const ready = this.readiness.get(workspace.id);
      link = ready ? this.afterReady(workspace, ready).then(connect) : connect();
      this.links.set(workspace.id, link);
      link.then((g) => this.links.get(workspace.id) === link && this.connected.set(workspace.id, g), () => this.links.delete(workspace.id));
    }
    return link;
  }

  // Resolves once the workspace's agent listens; its start's failure, said as the workspace's.
  private async afterReady(workspace: { name: string }, ready: Promise<unknown>): Promise<void> {
    try {
      await ready;
    } catch (err) {
      throw new AgentisoError("GUEST_UNREACHABLE", `workspace ${workspace.name} did not start: ${(err as Error).message}`, { cause: err });
    }
  }

  // Forgets the workspace's endpoint and connection, closing the connection if there is one.
  async drop(id: string): Promise<void> {
    const link = this.links.get(id);
    this.endpoints.delete(id);
    this.readiness.delete(id);
    this.links.delete(id);
    this.connected.delete(id);
    if (link) await link.then((g) => g.close()).catch(() => {});
  }

  // Runs fn while no connection to the workspace's agent may open (callers wait); fn's `detach`
  // closes the current one and tells whether there was one. The endpoint is kept.
  async whileDetached<T>(id: string, fn: (detach: () => Promise<boolean>) => Promise<T>): Promise<T> {
    let open!: () => void;
    this.gates.set(id, new Promise<void>((resolve) => (open = resolve)));
    const detach = async () => {
      const link = this.links.get(id);
      this.links.delete(id);
      this.connected.delete(id);
      return link ? link.then(async (g) => (await g.close().catch(() => {}), true), () => false) : false;
    };
    try {
      return await fn(detach);
    } finally {
      this.gates.delete(id);
      open();
    }
  }

  // How busy the workspace's connected agent is; undefined without a connection.
  activityOf(id: string): GuestActivity | undefined {
    return this.connected.get(id)?.activity?.();
  }

  // Closes every connection (the engine is closing; the workspaces keep running).
  async dropAll(): Promise<void> {
    await Promise.all([...this.links.keys()].map((id) => this.drop(id)));
  }
}
