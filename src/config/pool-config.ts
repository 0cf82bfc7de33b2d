// [pool] of config.toml: workspaces started ahead of demand, so that a workspace_create which
// resolves to the same image, runtime and limits gets one at once (src/engine/warm-pool.ts).
// Each [[pool.entries]] names those settings (a key left out is the one of [defaults]) and how
// many to keep ready: "keep 4 of image opencode with 2 GiB, 2 cpus and egress warm".
// forksPerSnapshot does the same for forks, per snapshot forked from (warm forks).
import { z } from "zod";
import { DurationSetting } from "./duration-setting.js";
import { SizeSetting } from "./size-setting.js";

export const PoolEntrySchema = z
  .object({
    size: z.number().int().min(0).max(64).describe("Workspaces of these settings kept started and ready"),
    image: z.string().min(1).max(64).optional().describe("Image (default: [defaults] image)"),
    runtime: z.enum(["container", "vm"]).optional().describe("Runtime (default: [runtime] default)"),
    memory: SizeSetting.optional().describe('Memory limit, e.g. "1G" (default: [defaults] memory)'),
    cpus: z.number().positive().max(64).optional().describe("CPUs (default: [defaults] cpus)"),
    disk: SizeSetting.optional().describe('Disk quota, e.g. "8G" (default: [defaults] disk)'),
    pidsLimit: z.number().int().min(16).optional().describe("Process limit (default: [defaults] pidsLimit)"),
    network: z.enum(["none", "egress"]).optional().describe("Network mode (default: [defaults] network)"),
    idleTimeout: DurationSetting.optional().describe("This entry's own [pool] idleTimeout"),
  })
  .strict();

export const PoolConfigSchema = z
  .object({
    entries: z.array(PoolEntrySchema).max(32).default([]).describe("[[pool.entries]]: what to keep warm, one table per set of settings"),
    idleTimeout: DurationSetting.default(null).describe('A pooled workspace nobody claimed for this long is destroyed and not replaced until a create asks for its settings again, e.g. "30m"; "none" = kept'),
    forksPerSnapshot: z.number().int().min(0).max(64).default(0).describe("After a fork of a container's snapshot, forks of it kept started and ready for the next fork with the same limits (0 = forks are not pooled)"),
    fillConcurrency: z.number().int().min(1).max(8).default(1).describe("Pooled workspaces started at once while refilling (refills also wait while callers' creates and forks run)"),
  })
  .strict()
  .prefault({});

export type PoolConfig = z.output<typeof PoolConfigSchema>;
export type PoolEntryConfig = z.output<typeof PoolEntrySchema>;
