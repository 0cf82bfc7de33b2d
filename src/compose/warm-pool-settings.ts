// The engine's warm-pool settings from config.toml: every [[pool.entries]] (sizes in bytes, memory
// in MiB, durations in ms), plus `[vm] warmPool = N` as an entry of N VMs with the defaults.
import type { Config } from "../config/config.js";
import type { PoolEntryConfig } from "../config/pool-config.js";
import type { PoolEntrySettings, WarmPoolSettings } from "../engine/pool-key.js";

export function warmPoolSettings(config: Config): WarmPoolSettings {
  const entries = config.pool.entries.map(entrySettings);
  if (config.vm.warmPool > 0) entries.push({ size: config.vm.warmPool, runtime: "vm" });
  const idle = config.pool.idleTimeout;
  return { entries, idleTimeoutMs: idle === null ? null : idle * 1000, fillConcurrency: config.pool.fillConcurrency, forksPerSnapshot: config.pool.forksPerSnapshot };
}

function entrySettings(entry: PoolEntryConfig): PoolEntrySettings {
  return {
    size: entry.size,
    ...(entry.image !== undefined && { image: entry.image }),
    ...(entry.runtime !== undefined && { runtime: entry.runtime }),
    ...(entry.memory !== undefined && { memoryMiB: Math.ceil(entry.memory / (1024 * 1024)) }),
    ...(entry.cpus !== undefined && { cpus: entry.cpus }),
    ...(entry.disk !== undefined && { diskBytes: entry.disk }),
    ...(entry.pidsLimit !== undefined && { pidsLimit: entry.pidsLimit }),
    ...(entry.network !== undefined && { network: entry.network }),
    ...(entry.idleTimeout !== undefined && { idleTimeoutMs: entry.idleTimeout === null ? null : entry.idleTimeout * 1000 }),
  };
}
