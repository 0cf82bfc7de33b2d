// `agentiso workspace exec`: runs a command, its output streamed through as it comes, its exit
// code agentiso's. A hot command: it imports nothing that loads the contracts (zod), so the
// CLI's fast path (../fast-path.ts) can run it in a bare node (see hot-operations.ts).
import { AgentisoError } from "../../core/errors.js";
import type { OutputOf } from "../../contract/contract.js";
import type { Contracts } from "../../contract/registry.js";
import { outputBytesOf } from "../../contract/output-bytes.js";
import type { CliIo } from "../cli-context.js";
import type { CliCommand, Values } from "../command.js";
import { numberValue, requirePositionals, stringValue } from "../command.js";
import { commandExitCode, EXEC_OWN_FAILURE_EXIT } from "../exit-codes.js";
import { HOT_OPERATIONS } from "./hot-operations.js";

/** A command that runs on the fast path: it needs only a CliIo (no config, no contracts). */
export interface HotCommand extends Omit<CliCommand, "run"> {
  run(ctx: CliIo, values: Values, positionals: string[]): Promise<number>;
}

export const EXEC_OPTIONS = { workdir: { type: "string" }, env: { type: "string", multiple: true }, timeout: { type: "string" }, "background-after": { type: "string" } } as const;

export const execCommand: HotCommand = {
  name: "exec",
  usage: "exec WS [--workdir D] [--env K=V]... [--timeout SECONDS] [--background-after SECONDS] -- CMD [ARGS...]",
  summary: "run a command; its stdout/stderr stream through as they come and its exit code is agentiso's",
  options: EXEC_OPTIONS,
  async run(ctx, values, positionals) {
    const [workspace, ...argv] = requirePositionals(this, positionals, 2);
    return streamExec(ctx, workspace!, argv, values);
  },
};

// Runs argv in the workspace with exec's flags, streaming its output; returns the exit code to
// leave with (the command's, or 125 when agentiso itself failed: the message is on stderr).
export async function streamExec(ctx: CliIo, workspace: string, argv: string[], values: Values): Promise<number> {
  const timeoutSeconds = numberValue(values, "timeout");
  const backgroundAfter = numberValue(values, "background-after");
  let result: OutputOf<Contracts["exec"]>;
  try {
    const input = ctx.check("exec", {
      workspace,
      argv,
      workdir: stringValue(values, "workdir"),
      env: parseEnvPairs((values.env as string[] | undefined) ?? []),
      outputInResult: false,
      ...(timeoutSeconds !== undefined && { timeoutMs: Math.round(timeoutSeconds * 1000) }),
      ...(backgroundAfter !== undefined && { backgroundAfterMs: Math.round(backgroundAfter * 1000) }),
    });
    result = await (await ctx.daemon()).callStreaming<OutputOf<Contracts["exec"]>>(HOT_OPERATIONS.exec, input, (event) => {
      const output = outputBytesOf(event);
      if (output) return ctx.write(output.stream === "stderr" ? "stderr" : "stdout", output.bytes);
    });
  } catch (err) {
    ctx.err(`agentiso: ${(err as Error).message}\n`);
    return EXEC_OWN_FAILURE_EXIT;
  }
  if (result.jobId !== undefined) {
    ctx.err(`agentiso: still running after ${backgroundAfter} s as job ${result.jobId}; follow it with: agentiso ws logs ${workspace} --job ${result.jobId} -f\n`);
    return 0;
  }
  if (result.timedOut) ctx.err(`agentiso: command timed out after ${timeoutSeconds} s\n`);
  return commandExitCode(result.exitCode, result.signal);
}

// K=V arguments as an environment object; INVALID_INPUT for anything else.
export function parseEnvPairs(pairs: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new AgentisoError("INVALID_INPUT", `expected K=V, got ${JSON.stringify(pair)}`);
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return vars;
}
