// What every CLI command receives: the loaded config, a logger, output helpers and a lazily
// started daemon client.
import type { Config } from "../config/config.js";
import type { Logger } from "../core/logger.js";
import type { ApiClient } from "../api/api-client.js";

export interface CliContext {
  config: Config;
  logger: Logger;
  /** Connects to the daemon, starting it in the background when it is not running. */
  daemon(): Promise<ApiClient>;
  out(text: string): void;
  err(text: string): void;
  /** Prints a value as one JSON document. */
  json(value: unknown): void;
}

export type CommandHandler = (ctx: CliContext, argv: string[]) => Promise<number>;
