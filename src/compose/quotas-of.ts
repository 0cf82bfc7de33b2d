// The quotas of config.toml ([quotas] and each [[daemon.clients]]'s caps) in the shape the call
// admission takes: sizes in bytes, absent limits left out.
import type { Config, McpClientConfig } from "../config/config.js";
import type { QuotasConfig } from "../config/quotas-config.js";
import type { Quotas } from "../operations/call-admission.js";
import type { QuotaLimits } from "../operations/quota-ledger.js";

type LimitsSetting = QuotasConfig["global"] | Pick<McpClientConfig, "maxWorkspaces" | "maxMemory" | "maxDisk" | "maxConcurrentExecs">;

export function quotasOf(config: Config, clients: readonly McpClientConfig[]): Quotas {
  return {
    global: limitsOf(config.quotas.global),
    clientSession: limitsOf(config.quotas.session),
    hostSession: limitsOf(config.quotas.hostSession),
    clients: clients.map((client) => ({ name: client.name, ...limitsOf(client) })),
  };
}

function limitsOf(setting: LimitsSetting): QuotaLimits {
  return {
    ...(setting.maxWorkspaces !== undefined && { maxWorkspaces: setting.maxWorkspaces }),
    ...(setting.maxMemory !== undefined && { maxMemoryBytes: setting.maxMemory }),
    ...(setting.maxDisk !== undefined && { maxDiskBytes: setting.maxDisk }),
    ...(setting.maxConcurrentExecs !== undefined && { maxConcurrentExecs: setting.maxConcurrentExecs }),
  };
}
