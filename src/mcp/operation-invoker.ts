// Runs operations inside the daemon for the MCP-over-HTTP server, with the same steps as the
// control API: admit (rate limits), validate, run, observe (metrics).
import { AgentisoError, toAgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { parseInput, type Operation, type OperationServices } from "../operations/operation.js";
import type { AdmitHook } from "../api/api-server.js";
import type { ToolCaller } from "./tool-caller.js";

export interface InvocationHooks {
  /** Throws to refuse a call (e.g. QUOTA_EXCEEDED); may return a release to run once it is over. */
  admit?: AdmitHook;
  observe?(name: string, outcome: { durationMs: number; error?: AgentisoError; result?: unknown; session?: string }): void;
}

export interface LocalInvokerOptions {
  operations: readonly Operation[];
  services: OperationServices;
  logger: Logger;
  hooks?: InvocationHooks;
}

// A ToolCaller that runs operations in this process on behalf of `session`.
export function localInvoker(options: LocalInvokerOptions, session: () => string): ToolCaller {
  const byName = new Map(options.operations.map((op) => [op.name, op]));
  return async (name, args, { signal }) => {
    const operation = byName.get(name);
    if (!operation) throw new AgentisoError("INVALID_INPUT", `unknown tool ${JSON.stringify(name)}`);
    const who = session();
    const started = performance.now();
    let release: (() => void) | void = undefined;
    try {
      const input = parseInput(operation, args);
      release = options.hooks?.admit?.(operation, input, who);
      const result = await operation.run({ services: options.services, session: who, signal, logger: options.logger }, input);
      options.hooks?.observe?.(name, { durationMs: performance.now() - started, result, session: who });
      return result;
    } catch (err) {
      const error = toAgentisoError(err);
      options.hooks?.observe?.(name, { durationMs: performance.now() - started, error, session: who });
      if (error.code === "INTERNAL") options.logger.error("operation failed", { operation: name, err });
      throw error;
    } finally {
      release?.();
    }
  };
}
