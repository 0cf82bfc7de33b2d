// What a new workspace is made of: the engine's defaults, the options a caller may override,
// and the record both make. Shared by the workspace service, forks and the warm pool.
import { randomBytes } from "node:crypto";
import { assertValidName } from "../core/names.js";
import type { NetworkMode, RuntimeKind, WorkspaceResources } from "../runtimes/workspace-runtime.js";
import { lifecycleOf, type LifecycleLimits } from "./lifecycle.js";
import type { WorkspaceRecord } from "./workspace-record.js";

export interface WorkspaceDefaults {
  image: string;
  runtime: RuntimeKind;
  memoryMiB: number;
  cpus: number;
  diskBytes: number;
  pidsLimit: number;
  network: NetworkMode;
}

export interface CreateWorkspaceOptions {
  name?: string;
  image?: string;
  runtime?: RuntimeKind;
  memoryMiB?: number;
  cpus?: number;
  diskBytes?: number;
  pidsLimit?: number;
  network?: NetworkMode;
  owner?: string;
  /** Its ttl and idle timeout; none when absent (a fork inherits none from its origin). */
  lifecycle?: LifecycleLimits;
  signal?: AbortSignal;
}

// A record in state `creating`: each setting from the options, else the template (a fork's origin), else the defaults.
export function newWorkspaceRecord(options: CreateWorkspaceOptions, defaults: WorkspaceDefaults, forkedFrom?: WorkspaceRecord["forkedFrom"], template?: WorkspaceRecord): WorkspaceRecord {
  const id = randomBytes(4).toString("hex");
  const name = options.name === undefined ? `ws-${id}` : assertValidName(options.name, "workspace name");
  const now = new Date().toISOString();
  const record: WorkspaceRecord = {
    id,
    name,
    state: "creating",
    image: options.image ?? template?.image ?? defaults.image,
    runtime: options.runtime ?? template?.runtime ?? defaults.runtime,
    network: options.network ?? template?.network ?? defaults.network,
    memoryMiB: options.memoryMiB ?? template?.memoryMiB ?? defaults.memoryMiB,
    cpus: options.cpus ?? template?.cpus ?? defaults.cpus,
    pidsLimit: options.pidsLimit ?? template?.pidsLimit ?? defaults.pidsLimit,
    diskBytes: options.diskBytes ?? template?.diskBytes ?? defaults.diskBytes,
    createdAt: now,
    updatedAt: now,
  };
  if (forkedFrom) record.forkedFrom = forkedFrom;
  if (options.owner) record.owner = options.owner;
  const lifecycle = lifecycleOf(options.lifecycle, Date.parse(now));
  if (lifecycle) record.lifecycle = lifecycle;
  return record;
}

// The limits a runtime starts the record's workspace with.
export function resourcesOf(record: WorkspaceRecord): WorkspaceResources {
  return { memoryMiB: record.memoryMiB, cpus: record.cpus, pidsLimit: record.pidsLimit };
}
