// The one way an operation is called, whichever door the call came through (control API,
// MCP over HTTP): find it, validate the input, admit it (rate limits and caps by cost),
// run it, check the result against the contract, observe it (metrics), map errors. The
// name → operation map is built once, here.
import { AgentisoError, toAgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { parseInput, type OperationContract } from "../contract/contract.js";
import type { Operation, OperationServices } from "./operation.js";
import { OPERATIONS, TERMINAL_OPERATIONS } from "./registry.js";
import type { TerminalChannel } from "./terminal-channel.js";

// What the front doors need of sessions and terminals, so that invoke.ts stays their one entry into operations/.
export { clientSession } from "./session-scope.js";
export type { TerminalChannel, TerminalInput } from "./terminal-channel.js";

/** Refuses a call by throwing; may return what to run once the call is over (a release). */
export type AdmitHook = (operation: Operation, input: unknown, session: string | undefined) => (() => void) | void;

export interface InvocationOutcome {
  durationMs: number;
  error?: AgentisoError;
  result?: unknown;
  session?: string;
}

/** Follows one call as it runs: its progress events (whether or not its caller streams them) and its end. */
export interface CallWatcher {
  progress(event: unknown): void;
  end(outcome: InvocationOutcome): void;
}

export interface InvocationHooks {
  admit?: AdmitHook;
  observe?(name: string, outcome: InvocationOutcome): void;
  /** A watcher for calls of this operation (the dashboard's orchestrations), or undefined; input is validated. */
  watch?(name: string, session: string | undefined, input: unknown): CallWatcher | undefined;
}

export interface InvokerOptions {
  services: OperationServices;
  logger: Logger;
  hooks?: InvocationHooks;
  /** Default: every operation of the registry. */
  operations?: readonly Operation[];
  /** Default: every terminal operation of the registry. */
  terminalOperations?: readonly Operation[];
}

export interface Invocation {
  name: string;
  /** The raw, unvalidated arguments. */
  input: unknown;
  /** MCP session on whose behalf it runs; undefined for the host's operator (CLI, control API). */
  session?: string;
  signal: AbortSignal;
  /** Set when the caller streams progress events; a returned promise resolves once the caller took the event. */
  progress?: (event: unknown) => void | Promise<void>;
  /** The user's terminal: set for (and only for) a terminal operation (workspace_shell). */
  terminal?: TerminalChannel;
}

export class OperationInvoker {
  private readonly byName: Map<string, Operation>;
  private readonly terminals: Map<string, Operation>;
  /** The contracts this invoker serves, in registry order: one array, so per-list caches (MCP tool definitions) hold across sessions. */
  readonly contracts: readonly OperationContract[];

  constructor(private readonly options: InvokerOptions) {
    const operations = options.operations ?? OPERATIONS;
    this.byName = new Map(operations.map((op) => [op.name, op]));
    this.contracts = operations;
    this.terminals = new Map((options.terminalOperations ?? TERMINAL_OPERATIONS).map((op) => [op.name, op]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** True for an operation that needs a terminal (called with Invocation.terminal). */
  hasTerminal(name: string): boolean {
    return this.terminals.has(name);
  }

  // Runs one call; resolves with the operation's result or throws an AgentisoError.
  async invoke(call: Invocation): Promise<unknown> {
    const operation = this.find(call);
    const { session } = call;
    const started = performance.now();
    let watcher: CallWatcher | undefined;
    const observe = (partial: Omit<InvocationOutcome, "durationMs" | "session">) => {
      const outcome = { durationMs: performance.now() - started, ...partial, ...(session !== undefined && { session }) };
      this.options.hooks?.observe?.(operation.name, outcome);
      watcher?.end(outcome);
    };
    let release: (() => void) | void = undefined;
    try {
      const input = parseInput(operation, call.input);
      release = this.options.hooks?.admit?.(operation, input, session);
      watcher = this.options.hooks?.watch?.(operation.name, session, input);
      const progress = withWatcher(call.progress, watcher);
      const context = {
        services: this.options.services, signal: call.signal, logger: this.options.logger,
        ...(session !== undefined && { session }), ...(progress && { progress }), ...(call.terminal && { terminal: call.terminal }),
      };
      const result = checkedResult(operation, await operation.run(context, input));
      observe({ result });
      return result;
    } catch (err) {
      const error = toAgentisoError(err);
      observe({ error });
      if (error.code === "INTERNAL") this.options.logger.error("operation failed", { operation: operation.name, err });
      throw error;
    } finally {
      release?.();
    }
  }

  // A terminal operation only with a terminal, every other only without one.
  private find(call: Invocation): Operation {
    const operation = (call.terminal ? this.terminals : this.byName).get(call.name);
    if (operation) return operation;
    if (!call.terminal && this.terminals.has(call.name)) {
      throw new AgentisoError("UNSUPPORTED", `${call.name} needs a terminal: use \`agentiso ws shell\` (the control API's terminal upgrade), not a plain call`);
    }
    throw new AgentisoError("NOT_FOUND", `no ${call.terminal ? "terminal " : ""}operation ${JSON.stringify(call.name)}`);
  }
}

// The caller's progress handler, with the watcher seeing each event first (never slowing it down).
function withWatcher(progress: Invocation["progress"], watcher: CallWatcher | undefined): Invocation["progress"] {
  if (!watcher) return progress;
  return (event) => {
    try {
      watcher.progress(event);
    } catch {
      // a watcher's failure is its own: the call and its caller's stream go on
    }
    return progress?.(event);
  };
}

// A result outside the contract is our bug, not the caller's: it fails loudly (INTERNAL)
// instead of reaching a client whose types say otherwise. The result itself is passed on
// unchanged (parsing would drop what the schema does not name).
function checkedResult(operation: Operation, result: unknown): unknown {
  const checked = operation.output.safeParse(result);
  if (checked.success) return result;
  const problems = checked.error.issues.slice(0, 5).map((issue) => `${issue.path.join(".") || "(result)"}: ${issue.message}`);
  throw new AgentisoError("INTERNAL", `${operation.name} returned a result outside its contract: ${problems.join("; ")}`);
}
