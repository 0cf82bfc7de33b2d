// The lifecycle arguments of create, fork and prepare as the engine takes them: what the caller
// gave, else the configured default of its front door ([lifecycle.mcp] for a session,
// [lifecycle.cli] without one). An action alone changes the default limit's action.
import { AgentisoError } from "../core/errors.js";
import type { ExpireAction, LifecycleChange, LifecycleLimits } from "../engine/lifecycle.js";
import type { OperationContext } from "./operation.js";

/** The parsed arguments: seconds, null for "none", undefined when not given. */
export interface LifecycleInput {
  ttl?: number | null | undefined;
  ttlAction?: ExpireAction | undefined;
  idleTimeout?: number | null | undefined;
  idleAction?: ExpireAction | undefined;
}

// The limits of a workspace this call creates.
export function lifecycleLimits(ctx: OperationContext, input: LifecycleInput): LifecycleLimits | undefined {
  const defaults = ctx.services.lifecycleDefaults?.[ctx.session === undefined ? "cli" : "mcp"];
  const ttl = limit("ttl", input.ttl, input.ttlAction, defaults && { seconds: defaults.ttl, action: defaults.ttlAction });
  const idle = limit("idleTimeout", input.idleTimeout, input.idleAction, defaults && { seconds: defaults.idleTimeout, action: defaults.idleAction });
  return ttl || idle ? { ...(ttl && { ttl }), ...(idle && { idle }) } : undefined;
}

// The change workspace_lifecycle asks for; undefined when it asks for none (it only looks).
export function lifecycleChange(input: LifecycleInput): LifecycleChange | undefined {
  const change: LifecycleChange = {};
  if (input.ttl !== undefined || input.ttlAction !== undefined) change.ttl = input.ttl === null ? null : { ...(input.ttl !== undefined && { seconds: input.ttl }), ...(input.ttlAction && { action: input.ttlAction }) };
  if (input.idleTimeout !== undefined || input.idleAction !== undefined) {
    change.idle = input.idleTimeout === null ? null : { ...(input.idleTimeout !== undefined && { seconds: input.idleTimeout }), ...(input.idleAction && { action: input.idleAction }) };
  }
  return change.ttl !== undefined || change.idle !== undefined ? change : undefined;
}

function limit(
  name: "ttl" | "idleTimeout",
  seconds: number | null | undefined,
  action: ExpireAction | undefined,
  fallback: { seconds: number | null; action: ExpireAction } | undefined,
): { seconds: number; action: ExpireAction } | undefined {
  const builtIn: ExpireAction = name === "ttl" ? "destroy" : "stop";
  if (seconds === null) return undefined;
  if (seconds !== undefined) return { seconds, action: action ?? fallback?.action ?? builtIn };
  if (fallback?.seconds == null) {
    if (action !== undefined) throw new AgentisoError("INVALID_INPUT", `${name === "ttl" ? "ttlAction" : "idleAction"} needs ${name} too: there is no default ${name} to apply it to`);
    return undefined;
  }
  return { seconds: fallback.seconds, action: action ?? fallback.action };
}
