// The CLI's fast path. A CLI call's cost here is mostly node starting and the CLI's code loading:
// the contracts alone (zod schemas of every operation) cost ~45 ms of a ~120 ms `--version`. So
// `ws exec` and `ws fork` — the commands a fork-and-run loop calls — run from this small module
// when the daemon already answers: their input goes unchecked to the daemon, which checks it
// with the same contract (so errors read the same). Anything else (another command, --help, no
// daemon: it must be started) returns undefined and entry.ts loads the full CLI (main.ts).
import { ApiClient } from "../api/api-client.js";
import { controlSocketPath, DEFAULT_HOME } from "../config/paths.js";
import { toAgentisoError } from "../core/errors.js";
import { writeDrained } from "../core/write-drained.js";
import type { InputOf } from "../contract/contract.js";
import type { Contracts } from "../contract/registry.js";
import type { CliIo } from "./cli-context.js";
import { parseCommandArgs, type CliCommand } from "./command.js";
import { EXIT_CODES } from "./exit-codes.js";
import { globalFlags } from "./global-flags.js";
import { execCommand, type HotCommand } from "./commands/exec-command.js";
import { forkCommand } from "./commands/fork-command.js";
import { socketAccepts } from "../core/socket-accepts.js";

const HOT_COMMANDS: readonly HotCommand[] = [execCommand, forkCommand];

// Runs a hot workspace command against a running daemon; undefined when the full CLI must run it.
export async function runFastPath(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const { home, rest } = globalFlags(argv);
  const [group, name, ...args] = rest;
  if (group !== "workspace" && group !== "ws") return undefined;
  const command = HOT_COMMANDS.find((c) => c.name === name);
  if (!command || args.includes("--help") || args.includes("-h")) return undefined;
  const socketPath = controlSocketPath({ home: home ?? env.AGENTISO_HOME ?? DEFAULT_HOME });
  if (!(await socketAccepts(socketPath))) return undefined; // no daemon: the full CLI starts one
  try {
    const { values, positionals } = parseCommandArgs(command as CliCommand, args);
    return await command.run(fastIo(new ApiClient({ socketPath })), values, positionals);
  } catch (err) {
    const error = toAgentisoError(err);
    process.stderr.write(`agentiso: ${error.message}\n`);
    return EXIT_CODES[error.code];
  }
}

function fastIo(client: ApiClient): CliIo {
  return {
    daemon: () => Promise.resolve(client),
    // the daemon checks it against the operation's contract
    check: <K extends keyof Contracts>(_operation: K, raw: Record<string, unknown>) => raw as InputOf<Contracts[K]>,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    write: (stream, bytes) => writeDrained(stream === "stdout" ? process.stdout : process.stderr, bytes),
    json: (value) => process.stdout.write(JSON.stringify(value, null, 2) + "\n"),
  };
}
