// The resource arguments of create and fork operations, as the engine takes them and as the
// quotas count them.
import type { WorkspaceDemand } from "./operation.js";

// Sizes arrive in bytes; the engine keeps memory in MiB.
export function resourceOptions(input: { memory?: number; cpus?: number; disk?: number; pidsLimit?: number; network?: "none" | "egress" }) {
  return {
    ...(input.memory !== undefined && { memoryMiB: Math.ceil(input.memory / (1024 * 1024)) }),
    ...(input.cpus !== undefined && { cpus: input.cpus }),
    ...(input.disk !== undefined && { diskBytes: input.disk }),
    ...(input.pidsLimit !== undefined && { pidsLimit: input.pidsLimit }),
    ...(input.network !== undefined && { network: input.network }),
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
