// The full agentiso command line (entry.ts loads it when the fast path does not apply). Thin:
// parse argv, call an operation (through the daemon) or a local command, print the result,
// exit with a documented code.
import { loadConfig, type Config } from "../config/config.js";
import { packageVersion } from "../compose/package-root.js";
import { createLogger } from "../core/logger.js";
import { toAgentisoError } from "../core/errors.js";
import { writeDrained } from "../core/write-drained.js";
import type { ApiClient } from "../api/api-client.js";
import type { CliContext } from "./cli-context.js";
import { helpFor, parseCommandArgs, type CliCommand } from "./command.js";
import { ensureDaemon } from "./daemon-control.js";
import { EXIT_CODES, EXIT_CODES_HELP } from "./exit-codes.js";
import { WORKSPACE_COMMANDS } from "./commands/workspace.js";
import { TOP_LEVEL_COMMANDS } from "./commands/top-level.js";
import { operationList } from "./commands/op.js";
import { globalFlags } from "./global-flags.js";
import { parseInput, type InputOf } from "../contract/contract.js";
import { contracts, type Contracts } from "../contract/registry.js";

function helpText(): string {
  return `agentiso ${packageVersion()} — isolated, forkable Linux workspaces for AI coding agents

Usage: agentiso [--home DIR] <command> [options]

Commands:
${helpFor("", TOP_LEVEL_COMMANDS)}

Workspaces (agentiso workspace … or agentiso ws …):
${helpFor("workspace", WORKSPACE_COMMANDS)}

Every operation, from its contract (agentiso op NAME --help shows its flags; JSON out):
${operationList()}
Global options:
  --home DIR   state dir (default $AGENTISO_HOME or /var/lib/agentiso)
  --json       print one JSON document on stdout (where supported)

Configuration: $AGENTISO_HOME/config.toml, overridden by the environment:
  AGENTISO_RUNTIME=container|vm   runtime of new workspaces ([runtime] default)
  AGENTISO_AGENT_NODE=host|image  node the agent runs on in containers ([runtime] agentNode)
  AGENTISO_OCI_RUNTIME=auto|crun|runc  OCI runtime of containers ([runtime] oci; auto: crun if usable)
  AGENTISO_VM_ACCEL=auto|kvm|tcg  microVM accelerator ([vm] accel; auto: KVM if usable)
  AGENTISO_VM_TEMPLATES=false     boot every microVM cold ([vm] templates)
  AGENTISO_VM_WARM_POOL=N         keep N booted microVMs for workspace create ([vm] warmPool)
  AGENTISO_STORAGE, AGENTISO_POOL_SIZE, AGENTISO_IMAGE_CACHE, AGENTISO_LOG_LEVEL, ...
  [lifecycle.mcp] / [lifecycle.cli] in config.toml: the ttl and idle timeout of new workspaces
    that name none (MCP sessions: 24h → destroy, 2h idle → stop; the CLI: none)
  [[pool.entries]] in config.toml: workspaces kept started per image and limits, handed out by
    workspace create; [pool] forksPerSnapshot = N: N forks kept started per snapshot forked
    from, handed out by workspace fork (docs/runtime-container.md "Warm pool")

${EXIT_CODES_HELP}
`;
}

function findCommand(commands: readonly CliCommand[], name: string | undefined): CliCommand | undefined {
  return commands.find((c) => c.name === name || c.aliases?.includes(name ?? ""));
}

// An operation's input checked against its contract (INVALID_INPUT before any daemon starts).
function checkInput<K extends keyof Contracts>(operation: K, raw: Record<string, unknown>): InputOf<Contracts[K]> {
  return parseInput(contracts[operation], raw) as InputOf<Contracts[K]>;
}

function makeContext(config: Config): CliContext {
  let client: Promise<ApiClient> | undefined;
  return {
    config,
    logger: createLogger({ level: config.logLevel }),
    daemon: () => (client ??= ensureDaemon(config)),
    check: checkInput,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    write: (stream, bytes) => writeDrained(stream === "stdout" ? process.stdout : process.stderr, bytes),
    json: (value) => process.stdout.write(JSON.stringify(value, null, 2) + "\n"),
  };
}

async function main(argv: string[]): Promise<number> {
  const { home, rest } = globalFlags(argv);
  const [first, ...others] = rest;
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    process.stdout.write(helpText());
    return 0;
  }
  if (first === "version" || first === "--version") {
    process.stdout.write(packageVersion() + "\n");
    return 0;
  }
  let command = findCommand(TOP_LEVEL_COMMANDS, first);
  let args = others;
  if (first === "workspace" || first === "ws") {
    command = findCommand(WORKSPACE_COMMANDS, others[0]);
    args = others.slice(1);
    if (!command) {
      process.stderr.write(`agentiso: unknown workspace command ${JSON.stringify(others[0] ?? "")}\n\n${helpFor("workspace", WORKSPACE_COMMANDS)}\n`);
      return 2;
    }
  }
  if (!command) {
    process.stderr.write(`agentiso: unknown command ${JSON.stringify(first)} (see agentiso --help)\n`);
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    if (command.help) {
      process.stdout.write(command.help(args));
      return 0;
    }
    process.stdout.write(`usage: agentiso ${first === "workspace" || first === "ws" ? "workspace " : ""}${command.usage}\n  ${command.summary}\n`);
    return 0;
  }
  const config = loadConfig({ env: process.env, flags: home === undefined ? {} : { home } });
  const { values, positionals } = command.rawArgs ? { values: {}, positionals: args } : parseCommandArgs(command, args);
  return command.run(makeContext(config), values, positionals);
}

// Runs one command line; sets process.exitCode from its outcome.
export async function runCli(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (err) {
    const error = toAgentisoError(err);
    process.stderr.write(`agentiso: ${error.message}\n`);
    process.exitCode = EXIT_CODES[error.code];
  }
}
