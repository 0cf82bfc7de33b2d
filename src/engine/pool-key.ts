// What makes two workspaces interchangeable before anyone used them: image, runtime and every
// limit, resolved against the engine's defaults (a create) or the origin's settings (a fork,
// whose key also names the snapshot it is forked from). A create or fork is served from the
// warm pool whose key equals the key of what it asks for (warm-pool.ts); anything else it asks
// (a name, an owner, lifecycle limits) is given at hand-out.
import type { NetworkMode, RuntimeKind } from "../runtimes/workspace-runtime.js";
import { policyOfOptions, type CreateWorkspaceOptions, type WorkspaceDefaults } from "./workspace-options.js";
import type { NetworkAllowlist, WorkspaceRecord } from "./workspace-record.js";

/** The settings a pooled workspace is made with, every one resolved. */
export interface PoolSpec {
  image: string;
  runtime: RuntimeKind;
  memoryMiB: number;
  cpus: number;
  pidsLimit: number;
  diskBytes: number;
  network: NetworkMode;
  /** With network allowlist (only a fork inherits one): its entries. */
  allowlist?: NetworkAllowlist;
  /** A fork pool's: the snapshot its workspaces are forked from ([pool] forksPerSnapshot). */
  forkOf?: ForkSource;
}

/** A snapshot forks are made of; `workspace` is the origin's name when the pool began. */
export interface ForkSource {
  workspace: string;
  workspaceId: string;
  snapshot: string;
}

/** What a pool asks a fork with: the snapshot and every setting resolved. */
export interface PoolForkOptions extends Omit<CreateWorkspaceOptions, "image" | "runtime"> {
  snapshot: string;
}

/** One [[pool.entries]]: what to keep ready; settings left out are the engine's defaults. */
/** The settings an image pool is made with (no fork, no allowlist). */
export type ImageSettings = Omit<PoolSpec, "allowlist" | "forkOf">;

export interface PoolEntrySettings extends Partial<ImageSettings> {
  size: number;
  /** This entry's own idle timeout (null: kept however long). */
  idleTimeoutMs?: number | null;
}

export interface WarmPoolSettings {
  entries: PoolEntrySettings[];
  /** A pooled workspace unclaimed this long is destroyed; absent or null: kept. */
  idleTimeoutMs?: number | null;
  /** Pooled workspaces started at once (default 1). */
  fillConcurrency?: number;
  /** Forks of a snapshot kept ready after a fork of it, per origin, snapshot and limits (0 or absent: none). */
  forksPerSnapshot?: number;
}

// Each setting asked for, else the default: what a create (or a pool entry, or a record) resolves to.
export function poolSpecOf(asked: Partial<ImageSettings>, defaults: WorkspaceDefaults): ImageSettings {
  return {
    image: asked.image ?? defaults.image,
    runtime: asked.runtime ?? defaults.runtime,
    memoryMiB: asked.memoryMiB ?? defaults.memoryMiB,
    cpus: asked.cpus ?? defaults.cpus,
    pidsLimit: asked.pidsLimit ?? defaults.pidsLimit,
    diskBytes: asked.diskBytes ?? defaults.diskBytes,
    network: asked.network ?? defaults.network,
  };
}

// What a workspace was made with: a pooled row's spec, to find its pool.
export function recordSpecOf(record: WorkspaceRecord): PoolSpec {
  const { forkedFrom: from, allowlist } = record;
  return { ...poolSpecOf(record, record), ...(allowlist && { allowlist }), ...(from && { forkOf: { workspace: from.workspace, workspaceId: from.workspaceId, snapshot: from.snapshot } }) };
}

// What a fork of `origin`'s `snapshot` resolves to: each limit asked, else the origin's; the network policy as a fork gets it.
export function forkSpecOf(origin: WorkspaceRecord, snapshot: string, asked: CreateWorkspaceOptions): PoolSpec {
  const policy = policyOfOptions(asked, origin, origin);
  return {
    ...poolSpecOf({ memoryMiB: asked.memoryMiB, cpus: asked.cpus, pidsLimit: asked.pidsLimit, diskBytes: asked.diskBytes }, { ...origin, network: policy.mode }),
    ...(policy.mode === "allowlist" && { allowlist: { allow: policy.allow, deny: policy.deny } }),
    forkOf: { workspace: origin.name, workspaceId: origin.id, snapshot },
  };
}

// The fork a fork pool makes: the same spec, so its row resolves to the pool's key again.
export function forkOptionsOf(spec: PoolSpec & { forkOf: ForkSource }, owner: string, signal: AbortSignal): PoolForkOptions {
  const { memoryMiB, cpus, pidsLimit, diskBytes, network, allowlist } = spec;
  return { snapshot: spec.forkOf.snapshot, memoryMiB, cpus, pidsLimit, diskBytes, network, ...(allowlist && { allowlist }), owner, signal };
}

// One readable string per spec, equal only for equal specs; also the pool's metrics label.
export function poolKeyOf(spec: PoolSpec): string {
  const fork = spec.forkOf ? `fork of ${spec.forkOf.workspaceId}@${spec.forkOf.snapshot} ` : "";
  const allowlist = spec.allowlist ? ` allow=${spec.allowlist.allow.join(",")} deny=${spec.allowlist.deny.join(",")}` : "";
  return `${fork}${spec.image} ${spec.runtime} memory=${spec.memoryMiB}Mi cpus=${spec.cpus} pids=${spec.pidsLimit} disk=${bytes(spec.diskBytes)} network=${spec.network}${allowlist}`;
}

function bytes(n: number): string {
  for (const [unit, size] of [["Gi", 1024 ** 3], ["Mi", 1024 ** 2]] as const) if (n % size === 0) return `${n / size}${unit}`;
  return `${n}B`;
}
