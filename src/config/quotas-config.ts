// [quotas]: how many workspaces, how much memory and disk (the sum of the workspaces' configured
// limits) and how many commands running at once the host, each MCP session and each client
// credential may hold (docs/mcp.md "Quotas"). A limit left out is no limit.
import { z } from "zod";
import { SizeSetting } from "./size-setting.js";

/** Defaults: room for every existing use, a bound on what one session can take. */
export const QUOTA_DEFAULTS = {
  global: { maxWorkspaces: 256, maxConcurrentExecs: 256 },
  session: { maxWorkspaces: 32, maxConcurrentExecs: 64 },
  hostSession: {},
} as const;

// One scope's limits, with the defaults given (a table that sets one key keeps the others' defaults).
function limits(defaults: { maxWorkspaces?: number; maxConcurrentExecs?: number }, what: string) {
  const count = (fallback: number | undefined) => (fallback === undefined ? z.number().int().min(0).optional() : z.number().int().min(0).default(fallback));
  return z
    .object({
      maxWorkspaces: count(defaults.maxWorkspaces).describe(`Workspaces ${what} may hold at once (any state)`),
      maxMemory: SizeSetting.optional().describe(`Memory all of ${what}'s workspaces may be given together, e.g. "64G"; unset = no limit`),
      maxDisk: SizeSetting.optional().describe(`Disk all of ${what}'s workspaces may be given together, e.g. "500G"; unset = no limit`),
      maxConcurrentExecs: count(defaults.maxConcurrentExecs).describe(`Commands ${what} may have running at once (exec; exec_parallel counts each run)`),
    })
    .strict()
    .prefault({});
}

export const QuotasSchema = z
  .object({
    global: limits(QUOTA_DEFAULTS.global, "the host (every caller, the CLI included)"),
    session: limits(QUOTA_DEFAULTS.session, "each MCP session of a [[daemon.clients]] client"),
    hostSession: limits(QUOTA_DEFAULTS.hostSession, "each of the host's own MCP sessions (agentiso serve, the unix socket)"),
  })
  .strict()
  .prefault({});

export type QuotasConfig = z.output<typeof QuotasSchema>;
