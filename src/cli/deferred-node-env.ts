// Puts back what bin/agentiso.js moved aside so node would start without it (see there): the
// CLI's children — the daemon above all, whose LLM proxy trusts the operator's extra CAs — get
// the environment the user set.
export const DEFERRED_EXTRA_CA_CERTS = "AGENTISO_DEFERRED_EXTRA_CA_CERTS";

export function restoreDeferredNodeEnv(env: NodeJS.ProcessEnv): void {
  const deferred = env[DEFERRED_EXTRA_CA_CERTS];
  if (deferred === undefined) return;
  delete env[DEFERRED_EXTRA_CA_CERTS];
  env.NODE_EXTRA_CA_CERTS ??= deferred;
}
