// An operation is its contract (src/contract/: name, schemas, hints — what every front door
// and the SDK derive from) plus how it runs in the daemon: run(), and what a call costs.
import type { z } from "zod";
import { isAgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { ByteCaps } from "../config/config.js";
import type { LifecycleDefaults } from "../config/lifecycle-config.js";
import type { Engine } from "../engine/engine.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { OperationContract } from "../contract/contract.js";
import { notInSession } from "./session-scope.js";
import type { TerminalChannel } from "./terminal-channel.js";

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
  /** MCP sessions may forward ports on non-loopback host addresses (config net.sessionPublicPorts); default false. */
  sessionPublicPorts?: boolean;
  /** The operator's exceptions to the always-denied ranges (config net.allow): the only private CIDRs an allowlist may name. */
  netExceptions?: readonly string[];
  /** The host's pinned opencode binary (npm package opencode-linux-x64): orchestrate layers it into goldens that need it. */
  opencodeBinary?: string;
  /** Limits of new workspaces nobody gave limits to ([lifecycle]): mcp for calls with a session, cli without; none when unset. */
  lifecycleDefaults?: { mcp: LifecycleDefaults; cli: LifecycleDefaults };
}

export interface OperationContext {
  services: OperationServices;
  /** MCP session id; undefined for the CLI and the control API (they see every workspace). */
  session?: string;
  signal: AbortSignal;
  logger: Logger;
  /** Set when the caller streams progress (control API NDJSON, an MCP progress token). A returned
   * promise resolves once the caller took the event: operations that stream output await it. */
  progress?: (event: unknown) => void | Promise<void>;
  /** The user's terminal, for terminal operations (TERMINAL_CONTRACTS) only. */
  terminal?: TerminalChannel;
}

export interface OperationImplementation<I extends z.ZodType, O extends z.ZodType> {
  /** Runs the call; what it resolves with must satisfy the contract's output schema. */
  run(ctx: OperationContext, input: z.output<I>): Promise<z.input<O>>;
  /** Rate-limit units one call takes; default: the workspaces it creates, else 1 (a 64-fork batch costs 64). */
  cost?(input: z.output<I>): number;
  /** The workspaces one call creates, for the quotas on workspaces, memory and disk (quota-admission.ts). */
  creates?(input: z.output<I>): WorkspaceDemand;
  /** Commands one call keeps running until it returns, for the quotas on concurrent execs; default 0. */
  execs?(input: z.output<I>): number;
}

export type Operation<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> = OperationContract<I, O> & OperationImplementation<I, O>;

export interface WorkspaceDemand {
  count: number;
  /** Memory of each; default: the origin's for forks (forkOf), else the configured default. */
  memoryBytes?: number;
  /** Disk of each; default: the origin's for forks (forkOf), else the configured default. */
  diskBytes?: number;
  forkOf?: string;
}

// Joins a contract and its implementation; the types tie run() to both schemas.
export function defineOperation<I extends z.ZodType, O extends z.ZodType>(contract: OperationContract<I, O>, implementation: OperationImplementation<I, O>): Operation<I, O> {
  return { ...contract, ...implementation };
}

// Finds a workspace the caller may use: a session sees only the workspaces it owns, and
// cannot tell another session's workspace from none. Naming a workspace is activity (its idle
// clock starts again) unless the call only looks (`look`: workspace_info, workspace_logs).
export function workspaceFor(ctx: OperationContext, ref: string, options: { look?: boolean } = {}): WorkspaceRecord {
  const record = ownedWorkspace(ctx, ref);
  if (!options.look) ctx.services.engine.lifecycle.touch(record.id);
  return record;
}

function ownedWorkspace(ctx: OperationContext, ref: string): WorkspaceRecord {
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
