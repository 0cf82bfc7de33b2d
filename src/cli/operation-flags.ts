// Flags for any operation, read from its contract's input schema: `--field value` per field
// (kebab-case or as named), `--flag`/`--no-flag` for booleans, a repeated flag for a list of
// strings, JSON for objects and other lists, and `--input JSON|@FILE` for the whole input.
// This is how `agentiso op NAME` reaches every operation without a hand-written command.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import type { OperationContract } from "../contract/contract.js";

type Kind = "string" | "number" | "boolean" | "strings" | "json" | "scalar";

export interface OperationFlag {
  field: string;
  flag: string;
  kind: Kind;
  required: boolean;
  description: string;
  /** Allowed values, for an enum. */
  choices?: string[];
}

interface PropertySchema {
  type?: string;
  enum?: unknown[];
  anyOf?: PropertySchema[];
  items?: PropertySchema;
  description?: string;
}

// The flags of an operation, in the order of its input schema.
export function operationFlags(contract: OperationContract): OperationFlag[] {
  const schema = z.toJSONSchema(contract.input, { io: "input", unrepresentable: "any", target: "draft-7" }) as { properties?: Record<string, PropertySchema>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([field, property]) => ({
    field,
    flag: kebab(field),
    kind: kindOf(property),
    required: (schema.required ?? []).includes(field),
    description: property.description ?? "",
    ...(property.enum && { choices: property.enum.map(String) }),
  }));
}

// Reads `--flag value` pairs into the operation's raw input (validated later by its schema).
export function readOperationFlags(contract: OperationContract, argv: string[]): Record<string, unknown> {
  const flags = operationFlags(contract);
  const byFlag = new Map(flags.flatMap((f) => [[f.flag, f] as const, [f.field, f] as const]));
  const input: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw usageError(contract, `unexpected argument ${JSON.stringify(arg)}`);
    const [name, inline] = splitFlag(arg.slice(2));
    if (name === "input") {
      Object.assign(input, wholeInput(contract, inline ?? argv[++i]));
      continue;
    }
    const negated = name.startsWith("no-") ? byFlag.get(name.slice(3)) : undefined;
    if (negated?.kind === "boolean" && inline === undefined) {
      input[negated.field] = false;
      continue;
    }
    const flag = byFlag.get(name);
    if (!flag) throw usageError(contract, `unknown flag --${name}`);
    if (flag.kind === "boolean" && inline === undefined) {
      input[flag.field] = true;
      continue;
    }
    const text = inline ?? argv[++i];
    if (text === undefined) throw usageError(contract, `--${name} needs a value`);
    const value = valueOf(flag, text);
    input[flag.field] = flag.kind === "strings" ? [...((input[flag.field] as string[] | undefined) ?? []), value] : value;
  }
  return input;
}

function kindOf(property: PropertySchema): Kind {
  if (property.anyOf) return "scalar";
  if (property.type === "integer" || property.type === "number") return "number";
  if (property.type === "boolean") return "boolean";
  if (property.type === "array") return property.items?.type === "string" ? "strings" : "json";
  if (property.type === "object") return "json";
  return "string";
}

function valueOf(flag: OperationFlag, text: string): unknown {
  switch (flag.kind) {
    case "number": {
      const value = Number(text);
      if (text.trim() === "" || !Number.isFinite(value)) throw new AgentisoError("INVALID_INPUT", `--${flag.flag} must be a number, got ${JSON.stringify(text)}`);
      return value;
    }
    case "boolean":
      if (text !== "true" && text !== "false") throw new AgentisoError("INVALID_INPUT", `--${flag.flag} is true or false, got ${JSON.stringify(text)}`);
      return text === "true";
    case "json":
      return parseJson(text, `--${flag.flag}`);
    case "scalar":
      // a size like 512M stays text; 1024 is a number
      return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    default:
      return text;
  }
}

function wholeInput(contract: OperationContract, text: string | undefined): Record<string, unknown> {
  if (text === undefined) throw usageError(contract, "--input needs JSON, or @FILE");
  const value = parseJson(text.startsWith("@") ? readFileSync(text.slice(1), "utf8") : text, "--input");
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new AgentisoError("INVALID_INPUT", "--input must be a JSON object");
  return value as Record<string, unknown>;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AgentisoError("INVALID_INPUT", `${what} is not JSON: ${(err as Error).message}`);
  }
}

function splitFlag(text: string): [string, string | undefined] {
  const eq = text.indexOf("=");
  return eq < 0 ? [text, undefined] : [text.slice(0, eq), text.slice(eq + 1)];
}

function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function usageError(contract: OperationContract, problem: string): AgentisoError {
  return new AgentisoError("INVALID_INPUT", `${problem}\nsee: agentiso op ${contract.name} --help`);
}
