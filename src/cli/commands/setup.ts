// `agentiso init` (idempotent: config file + storage pool) and `agentiso check` (every
// prerequisite: ok / missing + how to fix).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { ensureStateDir } from "../../core/state-dir.js";
import { join } from "node:path";
import { stringify as toToml, parse as parseToml } from "smol-toml";
import { loadConfig } from "../../config/config.js";
import { parseSizeBytes } from "../../config/size.js";
import { AgentisoError } from "../../core/errors.js";
import { resourceTagFor } from "../../core/resource-tag.js";
import { runCommand } from "../../core/run-command.js";
import type { Config } from "../../config/config.js";
import { PACKAGE_ROOT } from "../../compose/package-root.js";
import type { Logger } from "../../core/logger.js";
import type { PrerequisiteCheck } from "../../runtimes/workspace-runtime.js";
import type { CliCommand } from "../command.js";
import { stringValue } from "../command.js";
import { table } from "../format.js";

export const initCommand: CliCommand = {
  name: "init",
  usage: "init [--storage btrfs|zfs|overlay] [--pool-size 20G] [--json]",
  summary: "prepare the state dir and storage pool (idempotent)",
  options: { storage: { type: "string" }, "pool-size": { type: "string" } },
  async run(ctx, values) {
    ensureStateDir(ctx.config.home, { workspaceGid: ctx.config.runtime.uidShiftBase });
    const changed = writeConfigFile(ctx.config.home, stringValue(values, "storage"), stringValue(values, "pool-size"));
    const config = loadConfig({ env: process.env, flags: { home: ctx.config.home } });
    const { createStorage } = await import("../../compose/engine-factory.js");
    const storage = createStorage(config, resourceTagFor(config.home), ctx.logger);
    await storage.setup();
    const result = { home: config.home, storage: config.storage.driver, poolSizeBytes: config.storage.poolSize, configChanged: changed };
    if (values.json) ctx.json(result);
    else ctx.out(`agentiso initialised in ${config.home} (storage ${config.storage.driver}${changed ? ", config written" : ""})\n`);
    return 0;
  },
};

// Writes the flags into config.toml; returns whether the file changed.
function writeConfigFile(home: string, driver: string | undefined, poolSize: string | undefined): boolean {
  const file = join(home, "config.toml");
  const current = existsSync(file) ? (parseToml(readFileSync(file, "utf8")) as Record<string, Record<string, unknown>>) : {};
  const storage = { ...(current.storage ?? {}) };
  if (driver !== undefined) {
    if (!["btrfs", "zfs", "overlay"].includes(driver)) throw new AgentisoError("INVALID_INPUT", `--storage must be btrfs, zfs or overlay, got ${JSON.stringify(driver)}`);
    storage.driver = driver;
  }
  if (poolSize !== undefined) storage.poolSize = `${Math.round(parseSizeBytes(poolSize) / 1024 ** 2)}M`;
  const next = { ...current, storage };
  const text = toToml(next) + "\n";
  if (existsSync(file) && readFileSync(file, "utf8") === text) return false;
  if (!existsSync(file) && driver === undefined && poolSize === undefined) return false;
  writeFileSync(file, text, { mode: 0o600 });
  return true;
}

export const checkCommand: CliCommand = {
  name: "check",
  usage: "check [--json]",
  summary: "check every prerequisite: ok / missing + how to fix",
  async run(ctx, values) {
    const checks = await allChecks(ctx.config, ctx.logger);
    if (values.json) ctx.json({ ok: checks.every((c) => c.ok), checks });
    else ctx.out(table(checks.map((c) => [c.ok ? "ok" : "MISSING", c.name, c.ok ? c.detail : `${c.detail}${c.fix ? ` — fix: ${c.fix}` : ""}`]), ["STATUS", "CHECK", "DETAIL"]));
    return checks.every((c) => c.ok) ? 0 : 10;
  },
};

async function allChecks(config: Config, logger: Logger): Promise<PrerequisiteCheck[]> {
  const { agentBundlePath } = await import("../../compose/engine-factory.js");
  const { checkContainerPrerequisites } = await import("../../runtimes/container/prerequisites.js");
  let bundle = join(PACKAGE_ROOT, "dist", "agentiso-guest.cjs");
  try {
    bundle = agentBundlePath();
  } catch {
    /* reported by the bundle check below */
  }
  const hostNode = config.runtime.agentNode === "host" ? { hostNodePath: process.execPath } : {};
  const container = await checkContainerPrerequisites({ ociRuntime: config.runtime.oci, tiniPath: "/usr/bin/tini-static", agentBundlePath: bundle, ...hostNode });
  const tools = await Promise.all([
    tool("btrfs-progs", ["mkfs.btrfs", "--version"], "apt-get install btrfs-progs"),
    tool("mmdebstrap", ["mmdebstrap", "--version"], "apt-get install mmdebstrap"),
    tool("zstd", ["zstd", "--version"], "apt-get install zstd"),
    tool("git", ["git", "--version"], "apt-get install git"),
  ]);
  return [...container, ...tools, ...(await vmChecks(config, logger))];
}

async function tool(name: string, argv: string[], fix: string): Promise<PrerequisiteCheck> {
  try {
    const { stdout, stderr } = await runCommand(argv, { timeoutMs: 10_000 });
    return { name, ok: true, detail: (stdout || stderr).split("\n")[0]!.trim() };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message, fix };
  }
}

// The vm runtime's checks, prefixed "vm: " (KVM, vhost-vsock, QEMU, the guest kernel, the path used).
async function vmChecks(config: Config, logger: Logger): Promise<PrerequisiteCheck[]> {
  const { createVmRuntime } = await import("../../compose/engine-factory.js");
  const checks = await createVmRuntime(config, resourceTagFor(config.home), logger).check();
  return checks.map((c) => ({ ...c, name: `vm: ${c.name}` }));
}
