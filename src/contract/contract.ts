// The contract of one operation: everything a front door or a client needs to know about it —
// name, title, description, input and output schemas, hints — and nothing of how it runs.
// MCP tools, control-API routes, CLI commands and the SDK are all derived from contracts, so
// they can be loaded without the engine (the CLI, `agentiso serve`, a program using the SDK).
import type { z } from "zod";
import { AgentisoError } from "../core/errors.js";

/** Rate-limit bucket an operation counts against. */
export type OperationCategory = "create" | "exec" | "other";

/** What a client may assume about a call (MCP tool annotations). */
export interface OperationHints {
  /** Only looks: changes nothing anywhere. */
  readOnly: boolean;
  /** May throw work away (files, snapshots, a running workspace). */
  destructive: boolean;
  /** Calling it again with the same input has no further effect. */
  idempotent: boolean;
  /** Reaches outside agentiso (the network, a model provider). */
  openWorld: boolean;
}

export interface OperationContract<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  /** Also the MCP tool name and the control-API route, e.g. "workspace_create". */
  name: string;
  /** A short human name, e.g. "Create a workspace". */
  title: string;
  description: string;
  category: OperationCategory;
  hints: OperationHints;
  input: I;
  output: O;
  /** Sends progress events while it runs, when the caller asks for them (control API NDJSON). */
  streamsProgress?: boolean;
}

export type InputOf<C extends OperationContract> = z.input<C["input"]>;
export type OutputOf<C extends OperationContract> = z.output<C["output"]>;

type ContractSpec<I extends z.ZodType, O extends z.ZodType> = Omit<OperationContract<I, O>, "hints"> & { hints?: Partial<OperationHints> };

// Fills in the hints a contract leaves out (false), keeping the schemas' types attached.
export function defineContract<I extends z.ZodType, O extends z.ZodType>(spec: ContractSpec<I, O>): OperationContract<I, O> {
  return { ...spec, hints: { readOnly: false, destructive: false, idempotent: false, openWorld: false, ...spec.hints } };
}

// Validates raw arguments; the error names each bad field and what it expected.
export function parseInput<I extends z.ZodType>(contract: OperationContract<I>, raw: unknown): z.output<I> {
  const parsed = contract.input.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(arguments)"}: ${issue.message}`);
  throw new AgentisoError("INVALID_INPUT", `invalid arguments for ${contract.name}: ${problems.join("; ")}`, {
    details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
  });
}
