// What every CLI command receives: the loaded config, a logger, output helpers and a lazily
// started daemon client.
import type { Config } from "../config/config.js";
import type { Logger } from "../core/logger.js";
import type { ApiClient } from "../api/api-client.js";
import { parseInput, type InputOf, type OperationContract, type OutputOf } from "../contract/contract.js";

export interface CliContext {
  config: Config;
  logger: Logger;
  /** Connects to the daemon, starting it in the background when it is not running. */
  daemon(): Promise<ApiClient>;
  out(text: string): void;
  err(text: string): void;
  /** Writes bytes as they come (streamed output); the promise resolves once the stream drained. */
  write(stream: "stdout" | "stderr", bytes: Buffer): void | Promise<void>;
  /** Prints a value as one JSON document. */
  json(value: unknown): void;
}

export type CommandHandler = (ctx: CliContext, argv: string[]) => Promise<number>;

// Runs an operation from argv-built input: validated here with its contract (a bad flag is
// INVALID_INPUT before any daemon starts), then sent, typed end to end.
export async function runOperation<C extends OperationContract>(ctx: CliContext, contract: C, raw: Record<string, unknown>): Promise<OutputOf<C>> {
  const input = parseInput(contract, raw) as InputOf<C>;
  return (await ctx.daemon()).run(contract, input);
}
