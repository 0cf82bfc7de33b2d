// Host ports forwarded to workspace ports (`ws port`, MCP port_forward). Each forward is a
// host listener (src/net/port-listener.ts) whose every connection becomes a tunnel through the
// workspace's agent to a port on the workspace's loopback: no network device is needed, so it
// works the same for containers and microVMs in any network mode. Forwards are rows in SQLite:
// a listener opens when its workspace runs (create, start, restore, a new daemon adopting it),
// closes when it stops (the row stays, and the same host port opens again at the next start),
// and the row goes with the workspace.
import { isIP } from "node:net";
import { isLoopbackAddress } from "../core/address-ranges.js";
import { AgentisoError, isAgentisoError } from "../core/errors.js";
import { KeyedLock } from "../core/keyed-lock.js";
import { MAX_PORT_FORWARDS } from "../core/limits.js";
import { MAX_OPEN_TUNNELS } from "../guest/port-forward.js";
import { PortListener } from "../net/port-listener.js";
import type { EngineDeps, GuestLink } from "./engine-deps.js";
import type { StateDb } from "./state-db.js";
import type { WorkspaceLifecycle } from "./workspace-lifecycle.js";
import type { PortForwardRecord, WorkspaceRecord } from "./workspace-record.js";
import type { WorkspaceService } from "./workspace-service.js";
import { assertRunning } from "./workspace-state.js";

export const DEFAULT_BIND_ADDRESS = "127.0.0.1";
/** Tries to find a free host port that no stopped workspace's forward holds. */
const FREE_PORT_ATTEMPTS = 5;

export interface AddPortForward {
  guestPort: number;
  /** Host port to listen on; 0 or absent: a free one. */
  hostPort?: number;
  /** Host address (IP literal); default 127.0.0.1. */
  bindAddress?: string;
}

/** A forward as front doors show it; traffic counts since its listener last opened. */
export interface PortForwardView {
  workspace: string;
  guestPort: number;
  hostPort: number;
  bind: string;
  /** host:port to connect to ([v6]:port). */
  address: string;
  /** Listening on an address other hosts can reach. */
  public: boolean;
  /** The host listener is open (false while the workspace is stopped, or see error). */
  active: boolean;
  error?: string;
  openConnections: number;
  bytesToWorkspace: number;
  bytesFromWorkspace: number;
  createdAt: string;
}

/** Bytes through one workspace's forwards since this daemon started, and connections open now. */
export interface PortForwardTraffic {
  workspace: string;
  bytesToWorkspace: number;
  bytesFromWorkspace: number;
  openConnections: number;
}

export class PortForwards<G extends GuestLink> implements WorkspaceLifecycle {
  private readonly lock = new KeyedLock();
  private readonly listeners = new Map<string, PortListener>();
  /** Why a stored forward is not listening (its host port was taken while it was closed). */
  private readonly failures = new Map<string, string>();
  private readonly traffic = new Map<string, { toWorkspace: number; fromWorkspace: number }>();

  constructor(
    private readonly workspaces: WorkspaceService<G>,
    private readonly db: StateDb,
    private readonly deps: EngineDeps<G>,
  ) {}

  // Listens on the host and stores the forward; the same forward asked again answers as it is.
  async add(idOrName: string, request: AddPortForward): Promise<PortForwardView> {
    const bindAddress = request.bindAddress ?? DEFAULT_BIND_ADDRESS;
    if (isIP(bindAddress) === 0) throw new AgentisoError("INVALID_INPUT", `bind address ${JSON.stringify(bindAddress)} is not an IP address: use e.g. 127.0.0.1`);
    return this.lock.run([this.workspaces.get(idOrName).id], async () => {
      const record = this.workspaces.get(idOrName);
      assertRunning(record.name, record.state);
      const stored = this.db.listPortForwards(record.id);
      const same = stored.find((f) => f.guestPort === request.guestPort);
      if (same) {
        if (same.bindAddress === bindAddress && [undefined, 0, same.hostPort].includes(request.hostPort)) return this.view(record, same);
        throw new AgentisoError("CONFLICT", `port ${request.guestPort} of ${record.name} is already forwarded to ${addressOf(same)}: remove it first`);
      }
      if (stored.length >= MAX_PORT_FORWARDS) throw new AgentisoError("QUOTA_EXCEEDED", `workspace ${record.name} already forwards ${MAX_PORT_FORWARDS} ports: remove one first`);
      return this.view(record, await this.listenNew(record, request.guestPort, request.hostPort ?? 0, bindAddress));
    });
  }

  // Closes the forward's listener (and its connections) and forgets it.
  async remove(idOrName: string, guestPort: number): Promise<void> {
    await this.lock.run([this.workspaces.get(idOrName).id], async () => {
      const record = this.workspaces.get(idOrName);
      if (!this.db.listPortForwards(record.id).some((f) => f.guestPort === guestPort)) {
        throw new AgentisoError("NOT_FOUND", `port ${guestPort} of ${record.name} is not forwarded (see \`agentiso ws port ls ${record.name}\`)`);
      }
      await this.closeOne(record.id, guestPort);
      this.db.deletePortForward(record.id, guestPort);
    });
  }

  list(idOrName: string): PortForwardView[] {
    const record = this.workspaces.get(idOrName);
    return this.db.listPortForwards(record.id).map((forward) => this.view(record, forward));
  }

  /** Per workspace with forwards: traffic since this daemon started (read at each metrics scrape). */
  trafficByWorkspace(): PortForwardTraffic[] {
    const open = new Map<string, number>();
    for (const [key, listener] of this.listeners) open.set(workspaceOf(key), (open.get(workspaceOf(key)) ?? 0) + listener.stats().openConnections);
    const answer: PortForwardTraffic[] = [];
    for (const [id, bytes] of this.traffic) {
      const record = this.db.getWorkspace(id);
      if (!record) this.traffic.delete(id); // destroyed: its series go with it
      else answer.push({ workspace: record.name, bytesToWorkspace: bytes.toWorkspace, bytesFromWorkspace: bytes.fromWorkspace, openConnections: open.get(id) ?? 0 });
    }
    return answer;
  }

  async running(workspaceId: string): Promise<void> {
    await this.lock.run([workspaceId], async () => {
      const record = this.db.getWorkspace(workspaceId);
      if (!record) return;
      for (const forward of this.db.listPortForwards(workspaceId)) {
        const key = keyOf(workspaceId, forward.guestPort);
        if (this.listeners.has(key)) continue;
        try {
          this.listeners.set(key, await this.listen(record, forward.guestPort, forward.hostPort, forward.bindAddress));
          this.failures.delete(key);
        } catch (err) {
          this.failures.set(key, (err as Error).message);
          this.deps.logger.warn("port forward not reopened", { workspace: workspaceId, guestPort: forward.guestPort, hostPort: forward.hostPort, err });
        }
      }
    });
  }

  async stopping(workspaceId: string): Promise<void> {
    await this.lock.run([workspaceId], async () => {
      for (const forward of this.db.listPortForwards(workspaceId)) await this.closeOne(workspaceId, forward.guestPort);
    });
  }

  // Opens the listeners of every running workspace's forwards (a new daemon, after reconcile).
  async resume(): Promise<void> {
    const ids = new Set(this.db.listPortForwards().map((f) => f.workspaceId));
    for (const record of this.db.listWorkspaces({ states: ["running"] })) if (ids.has(record.id)) await this.running(record.id);
  }

  // Closes every listener (the engine is closing); the rows stay for the next daemon.
  async closeAll(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((listener) => listener.close()));
  }

  // A listener on a free host port (hostPort 0) or the one asked for, and the row that holds it.
  private async listenNew(record: WorkspaceRecord, guestPort: number, hostPort: number, bindAddress: string): Promise<PortForwardRecord> {
    for (let attempt = 1; ; attempt++) {
      const listener = await this.listen(record, guestPort, hostPort, bindAddress);
      const forward = { workspaceId: record.id, guestPort, hostPort: listener.port, bindAddress, createdAt: new Date().toISOString() };
      try {
        this.db.insertPortForward(forward);
      } catch (err) {
        await listener.close();
        // the kernel's free port is held by a stopped workspace's forward: ask again
        if (hostPort === 0 && attempt < FREE_PORT_ATTEMPTS && isAgentisoError(err, "CONFLICT")) continue;
        throw err;
      }
      this.listeners.set(keyOf(record.id, guestPort), listener);
      return forward;
    }
  }

  private listen(record: WorkspaceRecord, guestPort: number, hostPort: number, bindAddress: string): Promise<PortListener> {
    this.count(record.id, "toWorkspace", 0); // a workspace with a forward has traffic series, at zero until used
    return PortListener.open({
      host: bindAddress,
      port: hostPort,
      // the same bound as a guest → host tunnel's connections
      maxConnections: MAX_OPEN_TUNNELS,
      openFarEnd: async (signal) => this.deps.guests.openTunnel(await this.workspaces.guest(record.id, signal), guestPort, signal),
      onBytes: (direction, bytes) => this.count(record.id, direction === "toFar" ? "toWorkspace" : "fromWorkspace", bytes),
      logger: this.deps.logger.child({ workspace: record.id, guestPort }),
    });
  }

  private count(workspaceId: string, direction: "toWorkspace" | "fromWorkspace", bytes: number): void {
    let totals = this.traffic.get(workspaceId);
    if (!totals) this.traffic.set(workspaceId, (totals = { toWorkspace: 0, fromWorkspace: 0 }));
    totals[direction] += bytes;
  }

  private async closeOne(workspaceId: string, guestPort: number): Promise<void> {
    const key = keyOf(workspaceId, guestPort);
    const listener = this.listeners.get(key);
    this.listeners.delete(key);
    this.failures.delete(key);
    await listener?.close();
  }

  private view(record: WorkspaceRecord, forward: PortForwardRecord): PortForwardView {
    const key = keyOf(record.id, forward.guestPort);
    const stats = this.listeners.get(key)?.stats();
    const error = this.failures.get(key);
    return {
      workspace: record.name,
      guestPort: forward.guestPort,
      hostPort: forward.hostPort,
      bind: forward.bindAddress,
      address: addressOf(forward),
      public: !isLoopbackAddress(forward.bindAddress),
      active: stats !== undefined,
      ...(error !== undefined && { error }),
      openConnections: stats?.openConnections ?? 0,
      bytesToWorkspace: stats?.bytesToFar ?? 0,
      bytesFromWorkspace: stats?.bytesFromFar ?? 0,
      createdAt: forward.createdAt,
    };
  }
}

const keyOf = (workspaceId: string, guestPort: number) => `${workspaceId}:${guestPort}`;
const workspaceOf = (key: string) => key.slice(0, key.lastIndexOf(":"));
const addressOf = (forward: Pick<PortForwardRecord, "bindAddress" | "hostPort">) =>
  `${forward.bindAddress.includes(":") ? `[${forward.bindAddress}]` : forward.bindAddress}:${forward.hostPort}`;
