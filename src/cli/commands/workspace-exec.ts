// `agentiso workspace env|cp`: set persistent env, copy files in and out (exec: exec-command.ts).
import { open, stat, unlink } from "node:fs/promises";
import { CappedBytes, tooLarge } from "../../core/capped-bytes.js";
import { AgentisoError } from "../../core/errors.js";
import type { CliCommand } from "../command.js";
import { requirePositionals } from "../command.js";
import { parseEnvPairs } from "./exec-command.js";
import { runOperation } from "../cli-context.js";
import { contracts } from "../../contract/registry.js";

const CHUNK_BYTES = 4 * 1024 * 1024;

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
