// port_forward: host ports forwarded to a workspace's ports (src/engine/port-forwards.ts). The
// owner check is workspaceFor's; whether a caller may listen beyond loopback is decided here.
import { isIP } from "node:net";
import { isLoopbackAddress } from "../core/address-ranges.js";
import { AgentisoError } from "../core/errors.js";
import { contracts } from "../contract/registry.js";
import { defineOperation, workspaceFor, type OperationContext } from "./operation.js";

export const portForward = defineOperation(contracts.portForward, {
  run: async (ctx, input) => {
    const record = workspaceFor(ctx, input.workspace);
    const ports = ctx.services.engine.ports;
    if (input.action === "list") return ports.list(record.id);
    const guestPort = input.guestPort;
    if (guestPort === undefined) throw new AgentisoError("INVALID_INPUT", `port_forward ${input.action} needs guestPort`);
    if (input.action === "remove") {
      await ports.remove(record.id, guestPort);
      return { removed: guestPort, workspace: record.name };
    }
    if (input.bind !== undefined) assertMayBind(ctx, input.bind, input.public === true);
    return ports.add(record.id, { guestPort, ...(input.hostPort !== undefined && { hostPort: input.hostPort }), ...(input.bind !== undefined && { bindAddress: input.bind }) });
  },
});

// A workspace runs code nobody reviewed: listening where other hosts reach it takes the caller's
// explicit consent, and for an MCP session the operator's too (config net.sessionPublicPorts).
function assertMayBind(ctx: OperationContext, bind: string, consented: boolean): void {
  if (isIP(bind) === 0 || isLoopbackAddress(bind)) return; // not an address at all: the engine says so
  if (!consented) {
    throw new AgentisoError("INVALID_INPUT", `binding ${bind} exposes the workspace's port to every host that can reach that address: pass public: true (--public) to mean it, or bind 127.0.0.1`);
  }
  if (ctx.session !== undefined && ctx.services.sessionPublicPorts !== true) {
    throw new AgentisoError("PERMISSION_DENIED", `MCP sessions may forward ports on loopback only (the operator allows more with [net] sessionPublicPorts = true): bind 127.0.0.1`);
  }
}
