// What every CLI command receives: the loaded config, a logger, output helpers and a lazily
// started daemon client.
import type { Config } from "../config/config.js";
import type { Logger } from "../core/logger.js";
import type { ApiClient } from "../api/api-client.js";
import type { Contracts } from "../contract/registry.js";
import { parseInput, type InputOf, type OperationContract, type OutputOf } from "../contract/contract.js";

/** What the hot commands (hot-commands.ts) use: enough to send a request, nothing that loads the contracts. */
export interface CliIo {
  /** Connects to the daemon, starting it in the background when it is not running. */
  daemon(): Promise<ApiClient>;
  /**
   * An operation's input from argv, checked against its contract where the contracts are
   * loaded (a bad flag is INVALID_INPUT before any daemon starts); the fast path
   * (fast-path.ts), which runs only with a daemon up, leaves the check to the daemon.
   */
  check<K extends keyof Contracts>(operation: K, raw: Record<string, unknown>): InputOf<Contracts[K]>;
  out(text: string): void;
  err(text: string): void;
  /** Writes bytes as they come (streamed output); the promise resolves once the stream drained. */
  write(stream: "stdout" | "stderr", bytes: Buffer): void | Promise<void>;
  /** Prints a value as one JSON document. */
  json(value: unknown): void;
}

export interface CliContext extends CliIo {
  config: Config;
  logger: Logger;
}

export type CommandHandler = (ctx: CliContext, argv: string[]) => Promise<number>;

// Runs an operation from argv-built input: validated here with its contract (a bad flag is
// INVALID_INPUT before any daemon starts), then sent, typed end to end.
export async function runOperation<C extends OperationContract>(ctx: CliContext, contract: C, raw: Record<string, unknown>): Promise<OutputOf<C>> {
  const input = parseInput(contract, raw) as InputOf<C>;
  return (await ctx.daemon()).run(contract, input);
}
