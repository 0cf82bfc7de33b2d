// `agentiso workspace port WS PORT | port ls WS | port rm WS PORT`: host ports forwarded to a
// workspace's ports, through the port_forward operation. A workspace named "ls" or "rm" is
// reached by its id here.
import { AgentisoError } from "../../core/errors.js";
import type { CliCommand, Values } from "../command.js";
import { numberValue, requirePositionals, stringValue } from "../command.js";
import { table } from "../format.js";
import { runOperation, type CliContext } from "../cli-context.js";
import { contracts } from "../../contract/registry.js";
import { PortForwardSchema } from "../../contract/result-schemas.js";

export const portCommand: CliCommand = {
  name: "port",
  usage: "port WS GUEST_PORT [--host-port N] [--bind 127.0.0.1] [--public] | port ls WS | port rm WS GUEST_PORT  [--json]",
  summary: "open a workspace's port on the host (loopback unless --bind ADDR --public); ls lists, rm closes",
  options: { "host-port": { type: "string" }, bind: { type: "string" }, public: { type: "boolean" } },
  async run(ctx, values, positionals) {
    const [first, second, third] = requirePositionals(this, positionals, 2);
    if (first === "ls" && positionals.length === 2) return list(ctx, values, second!);
    if (first === "rm" && positionals.length === 3) return remove(ctx, values, second!, portNumber(third!));
    if (positionals.length !== 2) throw new AgentisoError("INVALID_INPUT", `unexpected arguments\nusage: agentiso workspace ${this.usage}`);
    const added = await runOperation(ctx, contracts.portForward, {
      workspace: first!,
      action: "add",
      guestPort: portNumber(second!),
      hostPort: numberValue(values, "host-port"),
      bind: stringValue(values, "bind"),
      public: values.public === true ? true : undefined,
    });
    const forward = PortForwardSchema.parse(added);
    if (values.json) ctx.json(forward);
    else ctx.out(`${forward.address} → ${forward.workspace}:${forward.guestPort}${forward.public ? "  (public: reachable from other hosts)" : ""}\n`);
    return 0;
  },
};

async function list(ctx: CliContext, values: Values, workspace: string): Promise<number> {
  const forwards = PortForwardSchema.array().parse(await runOperation(ctx, contracts.portForward, { workspace, action: "list" }));
  if (values.json) ctx.json(forwards);
  else {
    const rows = forwards.map((f) => [String(f.guestPort), f.address, f.active ? "yes" : (f.error ?? "no (stopped)"), String(f.openConnections), String(f.bytesToWorkspace), String(f.bytesFromWorkspace)]);
    ctx.out(table(rows, ["PORT", "HOST ADDRESS", "ACTIVE", "CONNECTIONS", "BYTES IN", "BYTES OUT"]));
  }
  return 0;
}

async function remove(ctx: CliContext, values: Values, workspace: string, guestPort: number): Promise<number> {
  const removed = await runOperation(ctx, contracts.portForward, { workspace, action: "remove", guestPort });
  if (values.json) ctx.json(removed);
  else ctx.out(`${workspace}:${guestPort} no longer forwarded\n`);
  return 0;
}

function portNumber(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port)) throw new AgentisoError("INVALID_INPUT", `a port is a number from 1 to 65535, got ${JSON.stringify(text)}`);
  return port;
}
