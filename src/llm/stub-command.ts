// `agentiso llm-stub [--port N] [--host H] [--script FILE]`: runs the stub model in the
// foreground for offline demos, prints its base URL on stdout, and stops on SIGINT/SIGTERM
// (or when the given signal aborts). Resolves with the process exit code.
import { parseArgs } from "node:util";
import { AgentisoError } from "../core/errors.js";
import { createLogger } from "../core/logger.js";
import { startStubServer } from "./stub-server.js";
import { loadStubScript } from "./stub-script.js";

export interface LlmStubCommandOptions {
  /** Stops the server when aborted (tests); SIGINT/SIGTERM always do. */
  signal?: AbortSignal;
  /** Where the URL line goes; defaults to stdout. */
  print?: (line: string) => void;
}

export const LLM_STUB_USAGE = "usage: agentiso llm-stub [--port N] [--host ADDR] [--script FILE.json]";

// CLI entry: parse argv, serve until told to stop.
export async function runLlmStubCommand(argv: readonly string[], options: LlmStubCommandOptions = {}): Promise<number> {
  const args = parseStubArgs(argv);
  const script = args.script ? await loadStubScript(args.script) : undefined;
  const stub = await startStubServer({ port: args.port, host: args.host, script, logger: createLogger() });
  (options.print ?? ((line) => process.stdout.write(line + "\n")))(stub.url);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      options.signal?.removeEventListener("abort", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener("abort", stop, { once: true });
  });
  await stub.close();
  return 0;
}

function parseStubArgs(argv: readonly string[]): { port: number; host: string; script: string | undefined } {
  let values: { port?: string; host?: string; script?: string };
  try {
    ({ values } = parseArgs({ args: [...argv], options: { port: { type: "string" }, host: { type: "string" }, script: { type: "string" } }, strict: true }));
  } catch (err) {
    throw new AgentisoError("INVALID_INPUT", `${(err as Error).message}\n${LLM_STUB_USAGE}`);
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AgentisoError("INVALID_INPUT", `--port must be 0-65535, got ${values.port}\n${LLM_STUB_USAGE}`);
  }
  return { port, host: values.host ?? "127.0.0.1", script: values.script };
}
