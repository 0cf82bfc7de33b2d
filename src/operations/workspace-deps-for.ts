// An operation's context as the explicit dependencies domain services take (src/domain/).
import type { WorkspaceDeps } from "../domain/workspace-deps.js";
import { hostPathsFor } from "./host-access.js";
import type { OperationContext } from "./operation.js";

// Engine, logger and signal of the call; host paths and owner of its caller (an MCP session or the host's root).
export function workspaceDepsFor(ctx: OperationContext): WorkspaceDeps {
  return {
    engine: ctx.services.engine,
    hostPaths: hostPathsFor(ctx),
    logger: ctx.logger,
    signal: ctx.signal,
    ...(ctx.session !== undefined && { owner: ctx.session }),
  };
}
