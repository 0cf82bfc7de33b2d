// What a new workspace is made of: the engine's defaults, the options a caller may override,
// and the record both make. Shared by the workspace service, forks and the warm pool.
import { randomBytes } from "node:crypto";
import { assertValidName } from "../core/names.js";
import type { NetworkMode, RuntimeKind, WorkspaceResources } from "../runtimes/workspace-runtime.js";
import { lifecycleOf, type LifecycleLimits } from "./lifecycle.js";
import { networkPolicyOf, type WorkspaceRecord } from "./workspace-record.js";
import { AgentisoError } from "../core/errors.js";
import { normalizePolicy, type NetworkPolicy } from "../core/network-allowlist.js";

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
  /** With network allowlist: its entries (validated here); a fork asking for no mode inherits its origin's. */
  allowlist?: { allow: readonly string[]; deny?: readonly string[] };
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
  const policy = policyOfOptions(options, defaults, template);
  const record: WorkspaceRecord = {
    id,
    name,
    state: "creating",
    image: options.image ?? template?.image ?? defaults.image,
    runtime: options.runtime ?? template?.runtime ?? defaults.runtime,
    network: policy.mode,
    memoryMiB: options.memoryMiB ?? template?.memoryMiB ?? defaults.memoryMiB,
    cpus: options.cpus ?? template?.cpus ?? defaults.cpus,
    pidsLimit: options.pidsLimit ?? template?.pidsLimit ?? defaults.pidsLimit,
    diskBytes: options.diskBytes ?? template?.diskBytes ?? defaults.diskBytes,
    createdAt: now,
    updatedAt: now,
  };
  if (policy.mode === "allowlist") record.allowlist = { allow: policy.allow, deny: policy.deny };
  if (forkedFrom) record.forkedFrom = forkedFrom;
  if (options.owner) record.owner = options.owner;
  const lifecycle = lifecycleOf(options.lifecycle, Date.parse(now));
  if (lifecycle) record.lifecycle = lifecycle;
  return record;
}

// The asked mode with its entries, else the template's whole policy (a fork inherits it), else the default mode.
export function policyOfOptions(options: CreateWorkspaceOptions, defaults: Pick<WorkspaceDefaults, "network">, template?: WorkspaceRecord): NetworkPolicy {
  if (options.network !== undefined) return normalizePolicy({ mode: options.network, ...options.allowlist });
  if (options.allowlist !== undefined) throw new AgentisoError("INVALID_INPUT", "allow and deny entries need network mode allowlist");
  return template ? networkPolicyOf(template) : normalizePolicy({ mode: defaults.network });
}

// The limits a runtime starts the record's workspace with.
export function resourcesOf(record: WorkspaceRecord): WorkspaceResources {
  return { memoryMiB: record.memoryMiB, cpus: record.cpus, pidsLimit: record.pidsLimit };
}
