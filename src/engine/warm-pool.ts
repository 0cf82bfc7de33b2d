// A few workspaces booted ahead of demand: workspace_create hands one out (renamed, its guest
// told its new hostname) when the request asks for nothing but the defaults, then the pool
// refills in the background. Pooled workspaces are ordinary rows owned by POOL_OWNER, hidden
// from listings, adopted after a crash like any other, and destroyed when the engine closes.
import { randomBytes } from "node:crypto";
import type { Logger } from "../core/logger.js";
import { assertValidName } from "../core/names.js";
import type { RuntimeKind } from "../runtimes/workspace-runtime.js";
import type { GuestLink } from "./engine-deps.js";
import type { LifecycleLimits } from "./lifecycle.js";
import type { CreateWorkspaceOptions, WorkspaceDefaults } from "./workspace-options.js";
import type { WorkspaceRecord } from "./workspace-record.js";
import type { WorkspaceState } from "./workspace-state.js";

export const POOL_OWNER = "agentiso:warm-pool";

export interface WarmPoolSettings {
  size: number;
  runtime: RuntimeKind;
}

/** What the pool asks of the workspace service that owns it (which imports the pool, not the reverse). */
export interface PoolWorkspaces<G extends GuestLink> {
  get(idOrName: string): WorkspaceRecord;
  list(filter: { owner?: string; states?: WorkspaceState[] }): WorkspaceRecord[];
  create(options: CreateWorkspaceOptions): Promise<WorkspaceRecord>;
  guest(idOrName: string): Promise<G>;
  rename(id: string, name: string, owner: string | undefined, limits?: LifecycleLimits): WorkspaceRecord;
  tellHostname(record: WorkspaceRecord, signal?: AbortSignal): Promise<void>;
  destroy(idOrName: string): Promise<void>;
}

export class WarmPool<G extends GuestLink> {
  private filling: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly workspaces: PoolWorkspaces<G>,
    private readonly settings: WarmPoolSettings,
    private readonly defaults: WorkspaceDefaults,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.settings.size;
  }

  get runtime(): RuntimeKind {
    return this.settings.runtime;
  }

  /** Pooled workspaces ready to hand out, oldest first. */
  ready(): WorkspaceRecord[] {
    return this.workspaces.list({ owner: POOL_OWNER, states: ["running"] });
  }

  // A pooled workspace renamed for this request, or undefined (no match, none ready).
  async claim(options: CreateWorkspaceOptions): Promise<WorkspaceRecord | undefined> {
    if (this.closed || options.owner === POOL_OWNER || !this.matches(options)) return undefined;
    const pooled = this.ready()[0];
    if (!pooled) {
      this.refill();
      return undefined;
    }
    const name = options.name === undefined ? `ws-${pooled.id}` : assertValidName(options.name, "workspace name");
    const claimed = this.workspaces.rename(pooled.id, name, options.owner, options.lifecycle);
    this.refill();
    try {
      await this.workspaces.tellHostname(claimed, options.signal);
    } catch (err) {
      await this.workspaces.destroy(claimed.id).catch(() => {});
      throw err;
    }
    this.logger.info("workspace taken from the warm pool", { workspace: claimed.id, name });
    return this.workspaces.get(claimed.id);
  }

  // Tops the pool up in the background; one fill runs at a time.
  refill(): void {
    if (this.closed || this.filling) return;
    this.filling = this.fill()
      .catch((err: unknown) => this.logger.error("warm pool refill failed", { err }))
      .finally(() => (this.filling = undefined));
  }

  // Stops refilling and destroys what is pooled (it is cheap to make again).
  async close(): Promise<void> {
    this.closed = true;
    await this.filling;
    for (const record of this.workspaces.list({ owner: POOL_OWNER })) {
      await this.workspaces.destroy(record.id).catch((err: unknown) => this.logger.warn("warm pool: destroy failed", { workspace: record.id, err }));
    }
  }

  private async fill(): Promise<void> {
    while (!this.closed && this.workspaces.list({ owner: POOL_OWNER }).length < this.settings.size) {
      const record = await this.workspaces.create({ name: `pool-${randomBytes(4).toString("hex")}`, owner: POOL_OWNER, runtime: this.settings.runtime });
      await this.workspaces.guest(record.id); // connected and configured before anyone asks
    }
  }

  // Only requests that ask for exactly what the pooled workspaces have.
  private matches(options: CreateWorkspaceOptions): boolean {
    const d = this.defaults;
    const same = <T>(asked: T | undefined, pooled: T) => asked === undefined || asked === pooled;
    return (
      (options.runtime ?? d.runtime) === this.settings.runtime &&
      same(options.image, d.image) &&
      same(options.memoryMiB, d.memoryMiB) &&
      same(options.cpus, d.cpus) &&
      same(options.pidsLimit, d.pidsLimit) &&
      same(options.diskBytes, d.diskBytes) &&
      same(options.network, d.network)
    );
  }
}
