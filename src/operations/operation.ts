// An operation is defined ONCE — name, zod input, run — and exposed three times: as an MCP
// tool, as a control-API endpoint and as a CLI command. The zod schema is the single place a
// parameter is described and validated.
import type { z } from "zod";
import { AgentisoError, isAgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { ByteCaps } from "../config/config.js";
import type { Engine } from "../engine/engine.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import { notInSession } from "./session-scope.js";

/** Rate-limit bucket an operation counts against. */
export type OperationCategory = "create" | "exec" | "other";

export interface OperationServices {
  engine: Engine<GuestClient>;
  /** Host directory file_transfer may read and write (nothing outside it); each MCP session gets its own subdirectory. */
  transferDir: string;
  /** Provider URLs MCP orchestrations may use (config [model]); default: the built-in providers'. */
  providerUrls?: { allowedBaseUrls: readonly string[]; allowPrivateBaseUrls: boolean };
  /** Caps on bytes taken from workspaces ([caps]); CAP_DEFAULTS when unset. */
  caps?: ByteCaps;
  /** Whether an image is built or buildable without a long wait (workspace_prepare picks its default with it). */
  imageAvailable?(name: string): Promise<boolean>;
}

export interface OperationContext {
  services: OperationServices;
  /** MCP session id; undefined for the CLI and the control API (they see every workspace). */
  session?: string;
  signal: AbortSignal;
  logger: Logger;
  /** Set when the caller streams progress (control API with Accept: application/x-ndjson). */
  progress?: (event: unknown) => void;
}

export interface Operation<I extends z.ZodType = z.ZodType, O = unknown> {
  /** Also the MCP tool name, e.g. "workspace_create". */
  name: string;
  description: string;
  category: OperationCategory;
  input: I;
  run(ctx: OperationContext, input: z.output<I>): Promise<O>;
  /** Rate-limit units one call takes; default: the workspaces it creates, else 1 (a 64-fork batch costs 64). */
  cost?(input: z.output<I>): number;
  /** The workspaces one call creates, for the per-client caps on workspaces and memory. */
  creates?(input: z.output<I>): WorkspaceDemand;
}

export interface WorkspaceDemand {
  count: number;
  /** Memory of each; default: the origin's for forks (forkOf), else the configured default. */
  memoryBytes?: number;
  forkOf?: string;
}

// Identity function that keeps the input type attached to run().
export function defineOperation<I extends z.ZodType, O>(operation: Operation<I, O>): Operation<I, O> {
  return operation;
}

// Validates raw arguments; the error names each bad field and what it expected.
export function parseInput<I extends z.ZodType>(operation: Operation<I, unknown>, raw: unknown): z.output<I> {
  const parsed = operation.input.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(arguments)"}: ${issue.message}`);
  throw new AgentisoError("INVALID_INPUT", `invalid arguments for ${operation.name}: ${problems.join("; ")}`, {
    details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
  });
}

// Finds a workspace the caller may use: a session sees only the workspaces it owns, and
// cannot tell another session's workspace from none.
export function workspaceFor(ctx: OperationContext, ref: string): WorkspaceRecord {
  if (ctx.session === undefined) return ctx.services.engine.workspaces.get(ref);
  let record: WorkspaceRecord;
  try {
    record = ctx.services.engine.workspaces.get(ref);
  } catch (err) {
    throw isAgentisoError(err, "NOT_FOUND") ? notInSession(ref) : err;
  }
  if (record.owner !== ctx.session) throw notInSession(ref);
  return record;
}
