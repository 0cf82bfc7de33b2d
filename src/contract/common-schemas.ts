// Argument schemas shared by several operations, each described for an LLM caller.
import { z } from "zod";
import { parseSizeBytes } from "../config/size.js";

export const WorkspaceRef = z.string().min(1).max(64).describe("Workspace name or id (see workspace_list)");

export const SnapshotName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, "use 1-63 characters a-z 0-9 _ . - starting with a letter or digit")
  .describe("Snapshot name, e.g. golden");

export const WorkspaceName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, "use 1-63 characters a-z 0-9 _ . - starting with a letter or digit")
  .describe("Workspace name (unique); generated when omitted");

export const NetworkModeSchema = z.enum(["none", "egress"]).describe("none: loopback only (default); egress: outbound internet through user-mode NAT, host services stay unreachable");

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
};
