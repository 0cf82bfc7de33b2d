// The resource arguments of create and fork operations, as the engine takes them.

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
