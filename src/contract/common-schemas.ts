// Argument schemas shared by several operations, each described for an LLM caller.
import { z } from "zod";
import { parseSizeBytes } from "../config/size.js";
import { parseDurationSeconds } from "../config/duration.js";
import { formatAllowEntry, MAX_POLICY_ENTRIES, parseAllowEntry } from "../core/network-allowlist.js";

export const WorkspaceRef = z.string().min(1).max(64).describe("Workspace name or id (see workspace_list)");

export const SnapshotName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, "use 1-63 characters a-z 0-9 _ . - starting with a letter or digit")
  .describe("Snapshot name, e.g. golden");

export const WorkspaceName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, "use 1-63 characters a-z 0-9 _ . - starting with a letter or digit")
  .describe("Workspace name (unique); generated when omitted");

export const NetworkModeSchema = z
  .enum(["none", "egress", "allowlist"])
  .describe("none: loopback only (default); egress: outbound internet through user-mode NAT, host services stay unreachable; allowlist: only the allow entries (names resolved by agentiso's DNS, CIDRs)");

/** One allow or deny entry, validated and made canonical (core/network-allowlist.ts). */
export const NetworkEntry = z
  .string()
  .max(300)
  .transform((value, ctx) => {
    try {
      return formatAllowEntry(parseAllowEntry(value));
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  });

export const NetworkEntries = {
  allow: z
    .array(NetworkEntry)
    .max(MAX_POLICY_ENTRIES)
    .optional()
    .describe('With network allowlist: names ("registry.npmjs.org", "*.pythonhosted.org": names below it), optionally with a port ("github.com:443"), or public CIDRs ("203.0.113.0/24", "198.51.100.7/32:5432")'),
  deny: z.array(NetworkEntry).max(MAX_POLICY_ENTRIES).optional().describe('With network allowlist: names or CIDRs refused even when allow matches them (no ports), e.g. "uploads.example.com"'),
};

/** A size given as bytes or as text like "512M", "4G". */
export const SizeArg = z
  .union([z.number().int().positive(), z.string()])
  .transform((value, ctx) => {
    try {
      return parseSizeBytes(value);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  });

export const ResourceArgs = {
  memory: SizeArg.optional().describe('Memory limit, e.g. "512M" or "2G"'),
  cpus: z.number().positive().max(64).optional().describe("CPU limit in cores, e.g. 1 or 0.5"),
  disk: SizeArg.optional().describe('Disk quota, e.g. "4G"'),
  pidsLimit: z.number().int().min(16).max(1_000_000).optional().describe("Maximum number of processes"),
  network: NetworkModeSchema.optional(),
  ...NetworkEntries,
};

/** A duration as seconds or text like "30m", "2h", "1d"; "none", 0 or null is null: no limit (null also because the CLI sends what it parsed). */
export const DurationArg = z.union([z.number().int().min(0), z.string(), z.null()]).transform((value, ctx) => {
  try {
    return value === null ? null : parseDurationSeconds(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});

export const ExpireActionArg = z.enum(["stop", "destroy"]);

/** Lifecycle limits of a new workspace (or changes to them); unset: the configured default of the front door. */
export const LifecycleArgs = {
  ttl: DurationArg.optional().describe('Time to live from now, e.g. "24h", "30m" or seconds; "none" for no limit. Default from config ([lifecycle]): 24h for MCP sessions'),
  ttlAction: ExpireActionArg.optional().describe("What happens when the ttl runs out: stop (once) or destroy (default destroy)"),
  idleTimeout: DurationArg.optional().describe('Stop or destroy after this long without exec, file or other calls on the workspace (a running command or background job counts as activity), e.g. "2h"; "none" for no limit. Default from config: 2h for MCP sessions'),
  idleAction: ExpireActionArg.optional().describe("What happens when it has been idle that long: stop (default) or destroy"),
};
