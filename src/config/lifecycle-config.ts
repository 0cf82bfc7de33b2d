// [lifecycle] of config.toml: the limits a new workspace gets when its creator names none, per
// front door. [lifecycle.mcp] covers calls made for a session (MCP over stdio or HTTP, the SDK
// or control API with a session): agents forget workspaces, so by default an idle one stops
// after 2 h and every one is destroyed after 24 h. [lifecycle.cli] covers calls without a
// session (the CLI, the control API, the SDK): no limits by default.
import { z } from "zod";
import { DurationSetting } from "./duration-setting.js";

export const EXPIRE_ACTIONS = ["stop", "destroy"] as const;
export type ExpireAction = (typeof EXPIRE_ACTIONS)[number];

const Duration = DurationSetting;

// Each key defaults on its own: `idleTimeout = "30m"` under [lifecycle.mcp] keeps the 24 h ttl.
function doorDefaults(defaults: { ttl: number | null; idleTimeout: number | null }) {
  return z
    .object({
      ttl: Duration.default(defaults.ttl).describe('Time to live of a new workspace, e.g. "24h"; "none" = no limit'),
      ttlAction: z.enum(EXPIRE_ACTIONS).default("destroy").describe("What happens when the ttl runs out"),
      idleTimeout: Duration.default(defaults.idleTimeout).describe('Time without exec, file or other calls on the workspace, e.g. "2h"; "none" = no limit'),
      idleAction: z.enum(EXPIRE_ACTIONS).default("stop").describe("What happens when it has been idle that long"),
    })
    .strict();
}

const McpDefaults = doorDefaults({ ttl: 24 * 3600, idleTimeout: 2 * 3600 });
const CliDefaults = doorDefaults({ ttl: null, idleTimeout: null });

export type LifecycleDefaults = z.output<typeof McpDefaults>;

export const LifecycleConfigSchema = z
  .object({
    mcp: McpDefaults.prefault({}).describe("Workspaces created for a session (MCP, or the SDK/control API with a session)"),
    cli: CliDefaults.prefault({}).describe("Workspaces created without a session (CLI, control API, SDK)"),
  })
  .strict()
  .prefault({});
