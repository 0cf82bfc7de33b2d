// The one configuration schema. Precedence: defaults < $AGENTISO_HOME/config.toml < AGENTISO_*
// environment < command-line flags. Parsed once at start, frozen, passed down; nothing below
// the composition root reads process.env.
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import { parseCidr } from "../core/cidr.js";
import { AgentisoError } from "../core/errors.js";
import { QuotasSchema } from "./quotas-config.js";
import { SizeSetting } from "./size-setting.js";
import { LifecycleConfigSchema } from "./lifecycle-config.js";
import { PoolConfigSchema } from "./pool-config.js";
import { DEFAULT_HOME } from "./paths.js";

const Size = SizeSetting;

const Cidr = z.string().transform((value, ctx) => {
  try {
    return parseCidr(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});

const RateLimit = z
  .object({
    perMinute: z.number().positive().describe("Calls allowed per minute (sustained)"),
    burst: z.number().int().min(1).describe("Calls allowed at once"),
  })
  .strict();

/** The built-in providers' URLs: what MCP orchestrations may reach unless the operator says otherwise. */
export const DEFAULT_ALLOWED_BASE_URLS = ["https://api.openai.com/v1", "https://api.anthropic.com/v1"] as const;
// An MCP client that logs in over TCP with its own token: its sessions, rate limits and caps
// are its own (docs/mcp.md "Clients").
export const McpClientSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, "use 1-63 characters a-z 0-9 _ . - starting with a letter or digit").describe("Scopes the client's sessions: owner <name>:<session>"),
    token: z.string().min(16).describe("Bearer token of this client (at least 16 characters)"),
    maxWorkspaces: z.number().int().min(0).default(32).describe("Workspaces its sessions may own at once"),
    maxMemory: Size.optional().describe('Memory all its workspaces may be given together, e.g. "16G"; unset = no cap'),
    maxDisk: Size.optional().describe('Disk all its workspaces may be given together, e.g. "200G"; unset = no cap'),
    maxConcurrentExecs: z.number().int().min(1).optional().describe("Commands all its sessions may have running at once; unset = no cap"),
    maxSessions: z.number().int().min(1).default(16).describe("MCP sessions it may have open at once"),
    dashboard: z.boolean().default(false).describe("Its token also signs a browser in to the web dashboard on the MCP listener (as the host's operator: every workspace, every action). daemon.mcpToken always does"),
  })
  .strict();
/** Defaults of [caps]: also used where no config is passed (tests, library use). */
export const CAP_DEFAULTS = {
  // 16 MiB each: the daemon holds up to both per running task, plus the frames they came in as
  // until the GC runs (measured: a refused 3 GB patch peaked the daemon at 217 MiB with 16, 370 with 64)
  patchBytes: 16 * 1024 ** 2,
  agentOutputBytes: 16 * 1024 ** 2,
  transferBytes: 4 * 1024 ** 3,
  consoleLogBytes: 8 * 1024 ** 2,
  daemonLogBytes: 32 * 1024 ** 2,
  daemonLogKeep: 3,
};

export const ConfigSchema = z
  .object({
    home: z.string().describe("State dir: database, pool, images, sockets. Env AGENTISO_HOME."),
    logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
    storage: z
      .object({
        driver: z.enum(["btrfs", "zfs", "overlay"]).default("btrfs"),
        poolSize: Size.default(20 * 1024 ** 3).describe("Size of the loop-file pool agentiso init creates"),
        poolDir: z.string().optional().describe("An existing mounted btrfs filesystem to use instead of a loop file"),
        zfsDataset: z.string().optional().describe("ZFS pool or dataset to hold agentiso's datasets, e.g. tank/agentiso"),
        zfsZvols: z.boolean().default(true).describe("false on zfs-fuse, which cannot create zvols (no VM disks then)"),
      })
      .strict()
      .default({ driver: "btrfs", poolSize: 20 * 1024 ** 3, zfsZvols: true }),
    runtime: z
      .object({
        default: z.enum(["container", "vm"]).default("container"),
        agentNode: z
          .enum(["host", "image"])
          .default("host")
          .describe("Container workspaces: run the guest agent on the daemon's own node (shared read-only, from a startup snapshot: ~3x faster starts) or on the image's node. Images without glibc use theirs either way. Env AGENTISO_AGENT_NODE."),
        thrashKillMs: z
          .number()
          .int()
          .min(0)
          .default(5000)
          .describe("Container workspaces: SIGKILL the largest process of a workspace that has thrashed at its memory limit (>= 20 major page faults/s) this long; 0 = never (the kernel's OOM killer acts only when nothing is left to reclaim)"),
        oci: z
          .enum(["auto", "crun", "runc"])
          .default("auto")
          .describe("Container workspaces: the OCI runtime that starts them. auto: crun when it is installed and can drive this host's cgroups (a container starts ~3x faster, for less CPU, than with runc), else runc. Env AGENTISO_OCI_RUNTIME."),
        uidShiftBase: z.number().int().min(65536).default(100000),
        uidShiftSize: z.number().int().min(65536).default(65536),
      })
      .strict()
      .default({ default: "container", agentNode: "host", thrashKillMs: 5000, oci: "auto", uidShiftBase: 100000, uidShiftSize: 65536 }),
    vm: z
      .object({
        accel: z.enum(["auto", "kvm", "tcg"]).default("auto").describe("auto: KVM when /dev/kvm is usable, else TCG (software emulation). Env AGENTISO_VM_ACCEL."),
        qemu: z.string().default("qemu-system-x86_64").describe("The QEMU binary"),
        templates: z.boolean().default(true).describe("Start fresh VM workspaces from a saved memory image of a booted one (sub-second) instead of a cold boot"),
        warmPool: z.number().int().min(0).max(64).default(0).describe("Booted VMs with the default settings kept ready for workspace_create: short for a [[pool.entries]] with runtime = \"vm\". Env AGENTISO_VM_WARM_POOL."),
        uid: z.number().int().min(0).max(2 ** 32 - 2).default(99999).describe("The unprivileged uid (and gid) QEMU drops to once started (-runas): outside the login and subuid ranges, used by nothing else; 0 = QEMU stays root"),
      })
      .strict()
      .default({ accel: "auto", qemu: "qemu-system-x86_64", templates: true, warmPool: 0, uid: 99999 }),
    images: z
      .object({ cacheDir: z.string().optional().describe("Where built images are cached (default HOME/images)") })
      .strict()
      .default({}),
    // Which model providers an MCP session's orchestrate may send a key and prompts to (the CLI may use any).
    model: z
      .object({
        allowedBaseUrls: z
          .array(z.string().url())
          .default([...DEFAULT_ALLOWED_BASE_URLS])
          .describe("Provider base URLs MCP orchestrations may use: a plan's base_url must equal one or lie under it. Env AGENTISO_ALLOWED_BASE_URLS (comma-separated)."),
        allowPrivateBaseUrls: z
          .boolean()
          .default(false)
          .describe("Let an allowed base URL resolve to a private, loopback or link-local address (an entry that is such an IP literal is allowed either way)"),
      })
      .strict()
      .default({ allowedBaseUrls: [...DEFAULT_ALLOWED_BASE_URLS], allowPrivateBaseUrls: false }),
    defaults: z
      .object({
        image: z.string().default("base"),
        memory: Size.default(512 * 1024 ** 2),
        cpus: z.number().positive().max(64).default(1),
        disk: Size.default(4 * 1024 ** 3),
        pidsLimit: z.number().int().min(16).default(1024),
        network: z.enum(["none", "egress"]).default("none"),
      })
      .strict()
      .default({ image: "base", memory: 512 * 1024 ** 2, cpus: 1, disk: 4 * 1024 ** 3, pidsLimit: 1024, network: "none" }),
    daemon: z
      .object({
        metricsListen: z.string().optional().describe("host:port for Prometheus /metrics, e.g. 127.0.0.1:9464"),
        idleExitMs: z.number().int().min(0).default(0).describe("Exit after this long with no workspaces and no clients; 0 = never"),
        mcpListen: z.string().optional().describe("host:port for MCP over Streamable HTTP with a bearer token (the unix socket always serves /mcp)"),
        mcpToken: z.string().min(16).optional().describe("Bearer token TCP MCP clients must send. Env AGENTISO_MCP_TOKEN."),
        transferDir: z.string().optional().describe("Host directory file_transfer and MCP host-path clones are confined to (default HOME/transfer)"),
        clients: z.array(McpClientSchema).default([]).describe("[[daemon.clients]]: MCP clients over TCP, each with its own token; mcpToken is a client named default"),
        dashboardListen: z.string().default("127.0.0.1:0").describe('host:port of the web dashboard (docs/dashboard.md); "off" = none. Default: a free loopback port, `agentiso dashboard` prints the URL. Env AGENTISO_DASHBOARD_LISTEN.'),
      })
      .strict()
      .default({ idleExitMs: 0, clients: [], dashboardListen: "127.0.0.1:0" }),
    // Egress of workspaces in `egress` mode (src/net/egress-rules.ts): the internet only. Private,
    // link-local, CGNAT, multicast and reserved ranges, IPv6 ULA/link-local and the host's own
    // addresses are refused; DNS goes only to agentiso's resolver.
    net: z
      .object({
        deny: z.array(Cidr).default([]).describe('More ranges egress may not reach, e.g. ["203.0.113.0/24"]'),
        allow: z.array(Cidr).default([]).describe('Exceptions to the default denies, e.g. an internal mirror ["10.1.2.3/32"]; never the host itself'),
        upstreamDns: z
          .string()
          .regex(/^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9a-fA-F:.]+\](:\d{1,5})?|[0-9a-fA-F:]+)$/, "an IP address with an optional port, e.g. 1.1.1.1 or 127.0.0.53:53")
          .optional()
          .describe("Where the allowlist's DNS gate asks (an IP, optional :port); default the host's first nameserver in /etc/resolv.conf"),
        // What workspaces trust and go through on the way out (src/compose/workspace-trust.ts)
        trustHostCas: z.boolean().default(true).describe("Workspaces trust the host's extra CA certificates (/usr/local/share/ca-certificates), e.g. a TLS-inspecting gateway's"),
        caFiles: z.array(z.string().startsWith("/")).default([]).describe("More PEM files of CA certificates workspaces trust"),
        httpProxy: z.string().url().optional().describe("HTTP_PROXY inside workspaces (it must be reachable from them: an allowed address)"),
        httpsProxy: z.string().url().optional().describe("HTTPS_PROXY inside workspaces"),
        noProxy: z.string().max(4096).optional().describe("NO_PROXY inside workspaces"),
        sessionPublicPorts: z
          .boolean()
          .default(false)
          .describe("MCP sessions may forward workspace ports on non-loopback host addresses (port_forward with public: true); the CLI and control API always may"),
      })
      .strict()
      .default({ deny: [], allow: [], trustHostCas: true, caFiles: [], sessionPublicPorts: false }),

    // Bytes the daemon takes from a workspace: past a cap the call fails with TOO_LARGE (src/core/capped-bytes.ts).
    caps: z
      .object({
        patchBytes: Size.default(CAP_DEFAULTS.patchBytes).describe("A worker's collected patch (git diff in the worker)"),
        agentOutputBytes: Size.default(CAP_DEFAULTS.agentOutputBytes).describe("opencode's stdout (its JSON events) per task"),
        transferBytes: Size.default(CAP_DEFAULTS.transferBytes).describe("One file downloaded from a workspace (file_transfer, ws cp)"),
        consoleLogBytes: Size.default(CAP_DEFAULTS.consoleLogBytes).describe("A workspace's console log on the host; past it the last window is kept as console.log.1"),
        daemonLogBytes: Size.default(CAP_DEFAULTS.daemonLogBytes).describe("daemon.log before it rotates to daemon.log.1"),
        daemonLogKeep: z.number().int().min(1).max(100).default(CAP_DEFAULTS.daemonLogKeep).describe("Rotated daemon logs kept (daemon.log.1 .. .N)"),
      })
      .strict()
      .default(CAP_DEFAULTS),
    // Per MCP client (or host session) and tool category (token buckets); CLI calls are not limited.
    limits: z
      .object({
        create: RateLimit.default({ perMinute: 30, burst: 10 }).describe("workspace_create, workspace_fork, workspace_batch_fork, workspace_prepare"),
        exec: RateLimit.default({ perMinute: 600, burst: 60 }).describe("exec, exec_background, exec_parallel"),
        other: RateLimit.default({ perMinute: 1200, burst: 120 }).describe("every other tool"),
      })
      .strict()
      .default({ create: { perMinute: 30, burst: 10 }, exec: { perMinute: 600, burst: 60 }, other: { perMinute: 1200, burst: 120 } }),
    // What the host, each MCP session and (in [[daemon.clients]]) each client may hold at once.
    quotas: QuotasSchema,
    // Default ttl and idle timeout of new workspaces per front door (lifecycle-config.ts).
    lifecycle: LifecycleConfigSchema,
    // Workspaces started ahead of demand for workspace_create (pool-config.ts, src/engine/warm-pool.ts).
    pool: PoolConfigSchema,
  })
  .strict();

export type Config = Readonly<z.output<typeof ConfigSchema>>;
export type McpClientConfig = z.output<typeof McpClientSchema>;
export type ByteCaps = Config["caps"];
export type ConfigInput = z.input<typeof ConfigSchema>;

export { DEFAULT_HOME };

export interface LoadConfigOptions {
  env: NodeJS.ProcessEnv;
  /** Flag values, already in schema shape (e.g. { storage: { driver: "overlay" } }). */
  flags?: Record<string, unknown>;
}

// Builds the frozen config from defaults, the home's config.toml, the environment and flags.
export function loadConfig(options: LoadConfigOptions): Config {
  const home = (options.flags?.home as string | undefined) ?? options.env.AGENTISO_HOME ?? DEFAULT_HOME;
  const file = join(home, "config.toml");
  const fromFile = existsSync(file) ? readToml(file) : {};
  const fromEnv = envOverrides(options.env);
  const merged = deepMerge(deepMerge(deepMerge({}, fromFile), fromEnv), { ...(options.flags ?? {}), home });
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
    throw new AgentisoError("INVALID_INPUT", `invalid configuration (${file}, AGENTISO_* or flags): ${issues}`);
  }
  return deepFreeze(parsed.data);
}

function readToml(file: string): Record<string, unknown> {
  try {
    return parseToml(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new AgentisoError("INVALID_INPUT", `cannot parse ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  const set = (section: string, key: string, value: unknown) => ((out[section] ??= {})[key] = value);
  if (env.AGENTISO_STORAGE) set("storage", "driver", env.AGENTISO_STORAGE);
  if (env.AGENTISO_POOL_SIZE) set("storage", "poolSize", env.AGENTISO_POOL_SIZE);
  if (env.AGENTISO_ZFS_DATASET) set("storage", "zfsDataset", env.AGENTISO_ZFS_DATASET);
  if (env.AGENTISO_RUNTIME) set("runtime", "default", env.AGENTISO_RUNTIME);
  if (env.AGENTISO_AGENT_NODE) set("runtime", "agentNode", env.AGENTISO_AGENT_NODE);
  if (env.AGENTISO_OCI_RUNTIME) set("runtime", "oci", env.AGENTISO_OCI_RUNTIME);
  if (env.AGENTISO_VM_ACCEL) set("vm", "accel", env.AGENTISO_VM_ACCEL);
  if (env.AGENTISO_VM_TEMPLATES) set("vm", "templates", env.AGENTISO_VM_TEMPLATES !== "false" && env.AGENTISO_VM_TEMPLATES !== "0");
  if (env.AGENTISO_VM_WARM_POOL) set("vm", "warmPool", Number(env.AGENTISO_VM_WARM_POOL));
  if (env.AGENTISO_IMAGE_CACHE) set("images", "cacheDir", env.AGENTISO_IMAGE_CACHE);
  if (env.AGENTISO_METRICS_LISTEN) set("daemon", "metricsListen", env.AGENTISO_METRICS_LISTEN);
  if (env.AGENTISO_MCP_LISTEN) set("daemon", "mcpListen", env.AGENTISO_MCP_LISTEN);
  if (env.AGENTISO_MCP_TOKEN) set("daemon", "mcpToken", env.AGENTISO_MCP_TOKEN);
  if (env.AGENTISO_DASHBOARD_LISTEN) set("daemon", "dashboardListen", env.AGENTISO_DASHBOARD_LISTEN);
  if (env.AGENTISO_ALLOWED_BASE_URLS) set("model", "allowedBaseUrls", env.AGENTISO_ALLOWED_BASE_URLS.split(",").map((url) => url.trim()).filter(Boolean));
  const result: Record<string, unknown> = { ...out };
  if (env.AGENTISO_LOG_LEVEL) result.logLevel = env.AGENTISO_LOG_LEVEL;
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    target[key] = isPlainObject(value) && isPlainObject(target[key]) ? deepMerge({ ...(target[key] as Record<string, unknown>) }, value) : value;
  }
  return target;
}

function deepFreeze<T>(value: T): T {
  if (isPlainObject(value)) for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
