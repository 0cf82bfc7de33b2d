// What the engine is built from. The composition root (src/compose/) picks the concrete
// storage driver, runtimes and image source; the engine sees only these interfaces.
import type { Logger } from "../core/logger.js";
import type { ResourceTag } from "../core/resource-tag.js";
import type { StorageDriver } from "../storage/storage-driver.js";
import type { GuestEndpoint, RuntimeKind, WorkspaceRuntime } from "../runtimes/workspace-runtime.js";

/** Makes sure an image exists as a storage base and returns the base's name. */
export interface BaseImages {
  ensureBase(image: string, options: { runtime: RuntimeKind; signal?: AbortSignal }): Promise<string>;
}

/** A connected guest agent client; the engine only needs to close it. */
export interface GuestLink {
  close(): Promise<void>;
}

export interface GuestConnector<G extends GuestLink> {
  /** Connects to the agent behind endpoint and completes the protocol handshake. */
  connect(endpoint: GuestEndpoint, options: { workspace: string; signal?: AbortSignal }): Promise<G>;
}

export interface EngineDeps<G extends GuestLink> {
  stateDir: string;
  tag: ResourceTag;
  logger: Logger;
  storage: StorageDriver;
  runtimes: Partial<Record<RuntimeKind, WorkspaceRuntime>>;
  images: BaseImages;
  guests: GuestConnector<G>;
  /** Observers for metrics; optional. */
  events?: EngineEvents;
}

export interface EngineEvents {
  workspaceStarted?(info: { runtime: RuntimeKind; durationMs: number }): void;
  workspaceForked?(info: { durationMs: number }): void;
  stateChanged?(): void;
}
