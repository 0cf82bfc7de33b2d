// What makes two workspaces interchangeable before anyone used them: image, runtime and every
// limit, resolved against the engine's defaults. A create is served from the warm pool whose
// key equals the key of what it asks for (warm-pool.ts); anything else it asks (a name, an
// owner, lifecycle limits) is given at hand-out.
import type { NetworkMode, RuntimeKind } from "../runtimes/workspace-runtime.js";
import type { WorkspaceDefaults } from "./workspace-options.js";

/** The settings a pooled workspace is made with, every one resolved. */
export interface PoolSpec {
  image: string;
  runtime: RuntimeKind;
  memoryMiB: number;
  cpus: number;
  pidsLimit: number;
  diskBytes: number;
  network: NetworkMode;
}

/** One [[pool.entries]]: what to keep ready; settings left out are the engine's defaults. */
export interface PoolEntrySettings extends Partial<PoolSpec> {
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
}

// Each setting asked for, else the default: what a create (or a pool entry, or a record) resolves to.
export function poolSpecOf(asked: Partial<PoolSpec>, defaults: WorkspaceDefaults): PoolSpec {
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

// One readable string per spec, equal only for equal specs; also the pool's metrics label.
export function poolKeyOf(spec: PoolSpec): string {
  return `${spec.image} ${spec.runtime} memory=${spec.memoryMiB}Mi cpus=${spec.cpus} pids=${spec.pidsLimit} disk=${bytes(spec.diskBytes)} network=${spec.network}`;
}

function bytes(n: number): string {
  for (const [unit, size] of [["Gi", 1024 ** 3], ["Mi", 1024 ** 2]] as const) if (n % size === 0) return `${n / size}${unit}`;
  return `${n}B`;
}
