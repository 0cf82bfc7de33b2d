// The resource arguments of create and fork operations, as the engine takes them and as the
// quotas count them.
import { assertPublicEntries, type NetworkMode } from "../core/network-allowlist.js";
import type { OperationContext, WorkspaceDemand } from "./operation.js";

interface ResourceInput {
  memory?: number;
  cpus?: number;
  disk?: number;
  pidsLimit?: number;
  network?: NetworkMode;
  allow?: string[];
  deny?: string[];
}

// Sizes arrive in bytes; the engine keeps memory in MiB. Allow entries alone mean mode allowlist.
export function resourceOptions(input: ResourceInput, ctx: OperationContext) {
  const network = input.network ?? (input.allow !== undefined ? "allowlist" : undefined);
  if (input.allow) assertPublicEntries(input.allow, ctx.services.netExceptions ?? []);
  return {
    ...(input.memory !== undefined && { memoryMiB: Math.ceil(input.memory / (1024 * 1024)) }),
    ...(input.cpus !== undefined && { cpus: input.cpus }),
    ...(input.disk !== undefined && { diskBytes: input.disk }),
    ...(input.pidsLimit !== undefined && { pidsLimit: input.pidsLimit }),
    ...(network !== undefined && { network }),
    ...((input.allow !== undefined || input.deny !== undefined) && { allowlist: { allow: input.allow ?? [], deny: input.deny ?? [] } }),
  };
}

// What a create or fork asks for, for the quotas: count workspaces of the given (or else the
// origin's, else the default) memory and disk.
export function resourceDemand(input: { memory?: number; disk?: number }, count = 1, forkOf?: string): WorkspaceDemand {
  return {
    count,
    ...(forkOf !== undefined && { forkOf }),
    ...(input.memory !== undefined && { memoryBytes: input.memory }),
    ...(input.disk !== undefined && { diskBytes: input.disk }),
  };
}
