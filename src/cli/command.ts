// A CLI command: usage line, summary, parseArgs options and a handler. Commands map argv onto
// an operation's input; validation and descriptions live in the operation's zod schema.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { AgentisoError } from "../core/errors.js";
import type { CliContext } from "./cli-context.js";

type Options = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CliCommand {
  name: string;
  aliases?: string[];
  usage: string;
  summary: string;
  options?: Options;
  /** Takes its arguments unparsed (as positionals): it reads its own flags. */
  rawArgs?: boolean;
  /** Help generated from the arguments (default: the usage line and summary). */
  help?(args: string[]): string;
  run(ctx: CliContext, values: Values, positionals: string[]): Promise<number>;
}

// Parses argv for one command; bad flags become INVALID_INPUT (exit 2) with the usage line.
export function parseCommandArgs(command: CliCommand, argv: string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { json: { type: "boolean" }, ...command.options }, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (err) {
    throw new AgentisoError("INVALID_INPUT", `${(err as Error).message}\nusage: agentiso ${command.usage}`);
  }
}

export function requirePositionals(command: CliCommand, positionals: string[], count: number): string[] {
  if (positionals.length < count) throw new AgentisoError("INVALID_INPUT", `missing arguments\nusage: agentiso ${command.usage}`);
  return positionals;
}

export function stringValue(values: Values, key: string): string | undefined {
  const value = values[key];
  return typeof value === "string" ? value : undefined;
}

export function numberValue(values: Values, key: string): number | undefined {
  const text = stringValue(values, key);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new AgentisoError("INVALID_INPUT", `--${key} must be a number, got ${JSON.stringify(text)}`);
  return value;
}

export function helpFor(group: string, commands: readonly CliCommand[]): string {
  return commands.map((c) => `  ${group ? group + " " : ""}${c.usage}\n      ${c.summary}`).join("\n");
}
