// `agentiso workspace stat|mkdir|rm-file|mv`: files inside a workspace, by its own paths (`rm`
// is taken: it destroys a workspace). Copying to and from the host is `ws cp`.
import type { CliCommand } from "../command.js";
import { requirePositionals, stringValue } from "../command.js";
import { runOperation } from "../cli-context.js";
import { contracts } from "../../contract/registry.js";
import { AgentisoError } from "../../core/errors.js";

export const statCommand: CliCommand = {
  name: "stat",
  usage: "stat WS PATH [--json]",
  summary: "show a path's kind, size, mode and modification time",
  async run(ctx, values, positionals) {
    const [workspace, path] = requirePositionals(this, positionals, 2);
    const stat = await runOperation(ctx, contracts.fileStat, { workspace, path });
    if (values.json) ctx.json(stat);
    else ctx.out(`${stat.kind} ${stat.sizeBytes} bytes mode ${stat.mode.toString(8).padStart(4, "0")} modified ${new Date(stat.mtimeMs).toISOString()} ${stat.path}\n`);
    return 0;
  },
};

export const mkdirCommand: CliCommand = {
  name: "mkdir",
  usage: "mkdir WS PATH [--no-parents] [--mode 755] [--json]",
  summary: "create a directory (with its parents unless --no-parents)",
  options: { "no-parents": { type: "boolean" }, mode: { type: "string" } },
  async run(ctx, values, positionals) {
    const [workspace, path] = requirePositionals(this, positionals, 2);
    const mode = octalValue(stringValue(values, "mode"));
    const made = await runOperation(ctx, contracts.fileMkdir, { workspace, path, recursive: values["no-parents"] !== true, ...(mode !== undefined && { mode }) });
    if (values.json) ctx.json(made);
    else ctx.out(`created ${made.path}\n`);
    return 0;
  },
};

export const rmFileCommand: CliCommand = {
  name: "rm-file",
  usage: "rm-file WS PATH [-r|--recursive] [--json]",
  summary: "delete a file or directory in a workspace (a non-empty directory needs -r)",
  options: { recursive: { type: "boolean", short: "r" } },
  async run(ctx, values, positionals) {
    const [workspace, path] = requirePositionals(this, positionals, 2);
    const deleted = await runOperation(ctx, contracts.fileDelete, { workspace, path, recursive: values.recursive === true });
    if (values.json) ctx.json(deleted);
    else ctx.out(`deleted ${deleted.path}\n`);
    return 0;
  },
};

export const mvCommand: CliCommand = {
  name: "mv",
  usage: "mv WS FROM TO [-f|--force] [--json]",
  summary: "move or rename a path inside a workspace (--force replaces an existing TO)",
  options: { force: { type: "boolean", short: "f" } },
  async run(ctx, values, positionals) {
    const [workspace, from, to] = requirePositionals(this, positionals, 3);
    const moved = await runOperation(ctx, contracts.fileMove, { workspace, from, to, overwrite: values.force === true });
    if (values.json) ctx.json(moved);
    else ctx.out(`moved ${moved.from} to ${moved.to}\n`);
    return 0;
  },
};

function octalValue(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-7]{3,4}$/.test(text)) throw new AgentisoError("INVALID_INPUT", `--mode is octal, e.g. 755; got ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}
