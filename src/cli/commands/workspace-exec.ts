// `agentiso workspace exec|env|cp`: run commands, set persistent env, copy files in and out.
import { open, stat, unlink } from "node:fs/promises";
import { CappedBytes, tooLarge } from "../../core/capped-bytes.js";
import { AgentisoError } from "../../core/errors.js";
import type { CliCommand } from "../command.js";
import { numberValue, requirePositionals, stringValue } from "../command.js";
import { commandExitCode, EXEC_OWN_FAILURE_EXIT } from "../exit-codes.js";
import { runOperation } from "../cli-context.js";
import { parseInput } from "../../contract/contract.js";
import { outputBytesOf } from "../../contract/output-event.js";
import type { OutputOf } from "../../contract/contract.js";
import { contracts } from "../../contract/registry.js";

const CHUNK_BYTES = 4 * 1024 * 1024;

export const execCommand: CliCommand = {
  name: "exec",
  usage: "exec WS [--workdir D] [--env K=V]... [--timeout SECONDS] [--background-after SECONDS] -- CMD [ARGS...]",
  summary: "run a command; its stdout/stderr stream through as they come and its exit code is agentiso's",
  options: { workdir: { type: "string" }, env: { type: "string", multiple: true }, timeout: { type: "string" }, "background-after": { type: "string" } },
  async run(ctx, values, positionals) {
    const [workspace, ...argv] = requirePositionals(this, positionals, 2);
    const timeoutSeconds = numberValue(values, "timeout");
    const backgroundAfter = numberValue(values, "background-after");
    let result: OutputOf<typeof contracts.exec>;
    try {
      const input = parseInput(contracts.exec, {
        workspace,
        argv,
        workdir: stringValue(values, "workdir"),
        env: parseEnvPairs((values.env as string[] | undefined) ?? []),
        outputInResult: false,
        ...(timeoutSeconds !== undefined && { timeoutMs: Math.round(timeoutSeconds * 1000) }),
        ...(backgroundAfter !== undefined && { backgroundAfterMs: Math.round(backgroundAfter * 1000) }),
      });
      result = await (await ctx.daemon()).runStreaming(contracts.exec, input, (event) => {
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
  },
};

export const envCommand: CliCommand = {
  name: "env",
  usage: "env WS K=V...",
  summary: "set environment variables for later execs (kept in memory, never on disk)",
  async run(ctx, _values, positionals) {
    const [workspace, ...pairs] = requirePositionals(this, positionals, 2);
    const result = await runOperation(ctx, contracts.setEnv, { workspace, vars: parseEnvPairs(pairs) });
    ctx.out(`set ${result.set.join(" ")}\n`);
    return 0;
  },
};

export const cpCommand: CliCommand = {
  name: "cp",
  usage: "cp SRC DST   (one side is WS:PATH)",
  summary: "copy a file between the host and a workspace",
  async run(ctx, _values, positionals) {
    const [src, dst] = requirePositionals(this, positionals, 2);
    const from = splitRemote(src!);
    const to = splitRemote(dst!);
    if ((from === undefined) === (to === undefined)) throw new AgentisoError("INVALID_INPUT", "exactly one side of cp must be WS:PATH");
    const client = await ctx.daemon();
    if (to) {
      const file = await open(src!, "r");
      try {
        const size = (await stat(src!)).size;
        let offset = 0;
        do {
          const buffer = Buffer.alloc(Math.min(CHUNK_BYTES, size - offset));
          await file.read(buffer, 0, buffer.length, offset);
          await client.run(contracts.fileWrite, { workspace: to.workspace, path: to.path, content: buffer.toString("base64"), encoding: "base64", append: offset > 0 });
          offset += buffer.length;
        } while (offset < size);
        ctx.out(`${size} bytes copied to ${dst}\n`);
      } finally {
        await file.close();
      }
      return 0;
    }
    // the workspace picks the file (a sparse 100 TiB one, a link to /dev/zero): copy at most [caps] transferBytes
    const cap = { what: `the workspace file ${src}`, maxBytes: ctx.config.caps.transferBytes, setting: "[caps] transferBytes" };
    const counted = new CappedBytes({ ...cap, keep: "none" });
    const file = await open(dst!, "w");
    try {
      for (;;) {
        const chunk = await client.run(contracts.fileRead, { workspace: from!.workspace, path: from!.path, offset: counted.totalBytes, limit: CHUNK_BYTES, encoding: "base64" });
        if (chunk.sizeBytes > cap.maxBytes) throw tooLarge(cap, chunk.sizeBytes);
        const data = Buffer.from(chunk.content, "base64");
        counted.push(data);
        await file.write(data);
        if (chunk.eof || data.length === 0) break;
      }
      ctx.out(`${counted.totalBytes} bytes copied to ${dst}\n`);
    } catch (err) {
      await unlink(dst!).catch(() => {});
      throw err;
    } finally {
      await file.close();
    }
    return 0;
  },
};

function splitRemote(spec: string): { workspace: string; path: string } | undefined {
  const match = /^([a-z0-9][a-z0-9_.-]{0,62}):(\/.*)$/.exec(spec);
  return match ? { workspace: match[1]!, path: match[2]! } : undefined;
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
