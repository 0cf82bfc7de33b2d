// What the engine is built from. The composition root (src/compose/) picks the concrete
// storage driver, runtimes and image source; the engine sees only these interfaces.
import type { Duplex } from "node:stream";
import type { Logger } from "../core/logger.js";
import type { ResourceTag } from "../core/resource-tag.js";
import type { StorageDriver } from "../storage/storage-driver.js";
import type { GuestEndpoint, RuntimeKind, WorkspaceRuntime } from "../runtimes/workspace-runtime.js";
import type { WarmPoolSettings } from "./pool-key.js";

/** Makes sure an image exists as a storage base and returns the base's name. */
export interface BaseImages {
  ensureBase(image: string, options: { runtime: RuntimeKind; signal?: AbortSignal }): Promise<string>;
}

/** A connected guest agent client; the engine closes it and reads how busy it is. */
export interface GuestLink {
  close(): Promise<void>;
  /** Requests in flight (a running exec, a transfer) and when one last started or ended (ms since the epoch). */
  activity?(): GuestActivity;
}

export interface GuestActivity {
  inFlight: number;
  lastActivityMs: number;
}

export interface GuestConnector<G extends GuestLink> {
  /** Connects to the agent behind endpoint, completes the protocol handshake and applies endpoint.configure. */
  connect(endpoint: GuestEndpoint, options: { workspace: string; signal?: AbortSignal }): Promise<G>;
  /** Makes the guest write its cached file data to its disk (`sync`), before a storage snapshot of a VM. */
  syncDisk(guest: G, signal?: AbortSignal): Promise<void>;
  /** Renames the guest's host (a warm-pool workspace handed out under a new name, where the runtime cannot from outside). */
  setHostname(guest: G, hostname: string, signal?: AbortSignal): Promise<void>;
  /** A TCP connection to a port on the guest's loopback, as a stream (a forwarded host port's connection). */
  openTunnel(guest: G, port: number, signal: AbortSignal): Promise<Duplex>;
  /** Whether a background job still runs in the guest (it keeps an idle timeout from firing). */
  hasRunningJobs?(guest: G, signal?: AbortSignal): Promise<boolean>;
  /** Runs one trivial command, so the agent's exec path is compiled before a warm-pool workspace is handed out. */
  warmUp?(guest: G, signal?: AbortSignal): Promise<void>;
  /** Sets the guest's clock to the host's (a VM resumed after a pause wakes with its clock behind). */
  syncClock?(guest: G, signal?: AbortSignal): Promise<void>;
}

export interface EngineDeps<G extends GuestLink> {
  stateDir: string;
  tag: ResourceTag;
  logger: Logger;
  storage: StorageDriver;
  runtimes: Partial<Record<RuntimeKind, WorkspaceRuntime>>;
  images: BaseImages;
  guests: GuestConnector<G>;
  /** Start fresh VM workspaces from memory-snapshot templates (runtimes that can capture them). */
  bootTemplates?: boolean;
  /** Workspaces started ahead of demand for workspace_create, per image and limits (no entries or absent: none). */
  warmPool?: WarmPoolSettings;
  /** Observers for metrics; optional. */
  events?: EngineEvents;
}

export interface EngineEvents {
  workspaceStarted?(info: { runtime: RuntimeKind; durationMs: number }): void;
  workspaceForked?(info: { durationMs: number }): void;
  /** A runtime ended a process thrashing at its workspace's memory limit (the container thrash guard). */
  thrashKill?(info: { runtime: RuntimeKind }): void;
  /** A lifecycle limit ran out and the reaper stopped or destroyed the workspace. */
  workspaceReaped?(info: { action: "stop" | "destroy"; reason: "ttl" | "idle" }): void;
  stateChanged?(): void;
}
