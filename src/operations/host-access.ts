// Which host paths a caller may name, decided in one place from the operation context: the
// host's root (CLI, control API without a session) any absolute path; an MCP session only its
// own transfer directory, <transferDir>/<hash of the session>/ (docs/security.md).
import { confinedHostPaths, sessionTransferDir, trustedHostPaths, type HostPaths } from "../core/host-paths.js";
import type { OperationContext } from "./operation.js";

// Host paths for repositories, plans, stub scripts and results: anywhere for the host's root.
export function hostPathsFor(ctx: OperationContext): HostPaths {
  return ctx.session === undefined ? trustedHostPaths() : confinedHostPaths(sessionTransferDir(ctx.services.transferDir, ctx.session));
}

// Host paths for file_transfer: the session's own directory, or the whole transfer dir for the host's root.
export function transferPathsFor(ctx: OperationContext): HostPaths {
  return confinedHostPaths(ctx.session === undefined ? ctx.services.transferDir : sessionTransferDir(ctx.services.transferDir, ctx.session));
}
