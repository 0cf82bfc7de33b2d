// The quotas on what calls hold: workspaces, the memory and disk they are given (the sum of
// their configured limits) and commands running at once, per scope — the host as a whole, an
// MCP client credential, one MCP session. A scope's use is what its workspaces hold (any
// state) plus what its calls in flight are creating or running; a call is checked against
// every scope it falls in, all at once, and its share is held until the call ends, so parallel
// calls cannot overshoot a limit together.
import { AgentisoError } from "../core/errors.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import { POOL_OWNER } from "../engine/warm-pool.js";

/** Limits of one scope; an absent one is not limited. */
export interface QuotaLimits {
  maxWorkspaces?: number;
  maxMemoryBytes?: number;
  maxDiskBytes?: number;
  maxConcurrentExecs?: number;
}

/** A scope a call falls in, and what counts as its own. */
export interface QuotaScope {
  /** Unique key, e.g. "session:ci:s1". */
  key: string;
  /** How messages name it, e.g. "session ci:s1", "client ci", "the host". */
  label: string;
  limits: QuotaLimits;
  owns(owner: string | undefined): boolean;
}

/** What a call adds: workspaces (each of the same memory and disk) and running commands. */
export interface QuotaAsk {
  workspaces: number;
  memoryMiB: number;
  diskMiB: number;
  execs: number;
}

type Usage = QuotaAsk;

const MIB = 1024 * 1024;
const NOTHING: Usage = { workspaces: 0, memoryMiB: 0, diskMiB: 0, execs: 0 };

interface Resource {
  quota: "workspaces" | "memory" | "disk" | "concurrent execs";
  field: keyof Usage;
  limit(limits: QuotaLimits): number | undefined;
  unit: string;
  advice: string;
}

const RESOURCES: readonly Resource[] = [
  { quota: "workspaces", field: "workspaces", limit: (l) => l.maxWorkspaces, unit: "", advice: "destroy some first" },
  { quota: "memory", field: "memoryMiB", limit: (l) => mib(l.maxMemoryBytes), unit: " MiB", advice: "ask for less memory or destroy some workspaces first" },
  { quota: "disk", field: "diskMiB", limit: (l) => mib(l.maxDiskBytes), unit: " MiB", advice: "ask for less disk or destroy some workspaces first" },
  { quota: "concurrent execs", field: "execs", limit: (l) => l.maxConcurrentExecs, unit: "", advice: "wait for a running command to finish" },
];

export class QuotaLedger {
  private readonly inFlight = new Map<string, Usage>();

  constructor(private readonly workspaces: () => readonly WorkspaceRecord[]) {}

  // Checks the ask against every scope, then holds it in all of them; the release frees it
  // (once, however often it is called). Refuses with QUOTA_EXCEEDED naming the limit, the use
  // and the ask.
  hold(scopes: readonly QuotaScope[], ask: QuotaAsk): () => void {
    const relevant = RESOURCES.filter((r) => ask[r.field] > 0);
    if (relevant.length === 0) return () => {};
    const records = relevant.some((r) => r.field !== "execs") ? this.workspaces().filter((w) => w.owner !== POOL_OWNER) : [];
    for (const scope of scopes) {
      const used = this.usage(scope, records);
      for (const resource of relevant) {
        const limit = resource.limit(scope.limits);
        if (limit !== undefined && used[resource.field] + ask[resource.field] > limit) throw exceeded(scope, resource, limit, used[resource.field], ask[resource.field]);
      }
    }
    for (const scope of scopes) this.add(scope.key, ask, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const scope of scopes) this.add(scope.key, ask, -1);
    };
  }

  private usage(scope: QuotaScope, records: readonly WorkspaceRecord[]): Usage {
    const used = { ...(this.inFlight.get(scope.key) ?? NOTHING) };
    for (const record of records) {
      if (!scope.owns(record.owner)) continue;
      used.workspaces += 1;
      used.memoryMiB += record.memoryMiB;
      used.diskMiB += Math.ceil(record.diskBytes / MIB);
    }
    return used;
  }

  private add(key: string, ask: QuotaAsk, sign: 1 | -1): void {
    const current = this.inFlight.get(key) ?? NOTHING;
    const next = {
      workspaces: current.workspaces + sign * ask.workspaces,
      memoryMiB: current.memoryMiB + sign * ask.memoryMiB,
      diskMiB: current.diskMiB + sign * ask.diskMiB,
      execs: current.execs + sign * ask.execs,
    };
    if (Object.values(next).every((n) => n <= 0)) this.inFlight.delete(key);
    else this.inFlight.set(key, next);
  }
}

function exceeded(scope: QuotaScope, resource: Resource, limit: number, inUse: number, asked: number): AgentisoError {
  const { unit } = resource;
  const counting = resource.field === "execs" ? "running now" : "counting those being created";
  return new AgentisoError(
    "QUOTA_EXCEEDED",
    `${resource.quota} quota of ${scope.label}: limit ${limit}${unit}, in use ${inUse}${unit} (${counting}), this call asks for ${asked}${unit}: ${resource.advice}`,
    { details: { quota: resource.quota, scope: scope.key.split(":")[0], limit, inUse, asked, ...(unit !== "" && { unit: unit.trim() }) } },
  );
}

function mib(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : Math.floor(bytes / MIB);
}
