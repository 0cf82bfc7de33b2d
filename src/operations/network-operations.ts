// network_policy: show or change what a workspace reaches (core/network-allowlist.ts), live.
// The owner check is workspaceFor's; private ranges need the operator's exception.
import { AgentisoError } from "../core/errors.js";
import { assertPublicEntries, formatAllowEntry, parseAllowEntry, type NetworkMode, type NetworkPolicy } from "../core/network-allowlist.js";
import { networkPolicyOf, type WorkspaceRecord } from "../engine/workspace-record.js";
import { contracts } from "../contract/registry.js";
import { defineOperation, workspaceFor, type OperationContext } from "./operation.js";

interface PolicyInput {
  mode?: NetworkMode;
  internet?: boolean;
  allow?: string[];
  deny?: string[];
  ports?: number[];
  interWorkspace?: boolean;
}

export const networkPolicy = defineOperation(contracts.networkPolicy, {
  run: async (ctx, input) => {
    if (input.interWorkspace === true) throw new AgentisoError("UNSUPPORTED", "workspaces never reach each other (each has its own network namespace and the host is refused): share data through the host, e.g. file_transfer");
    let record = workspaceFor(ctx, input.workspace);
    const wanted = policyAsked(record, input);
    if (wanted) {
      assertPublicEntries(wanted.allow, ctx.services.netExceptions ?? []);
      record = await ctx.services.engine.workspaces.setNetwork(record.id, wanted);
    }
    return policyView(ctx, record);
  },
});

// The policy the input asks for; undefined when it only asks to see the current one.
function policyAsked(record: WorkspaceRecord, input: PolicyInput): NetworkPolicy | undefined {
  const { mode: asked, internet, allow, deny, ports } = input;
  if (asked === undefined && internet === undefined && allow === undefined && deny === undefined && ports === undefined) return undefined;
  if (internet === false && (asked ?? "none") !== "none") throw new AgentisoError("INVALID_INPUT", `internet: false is mode none, not ${asked}`);
  const mode: NetworkMode = asked ?? (internet === false ? "none" : allow !== undefined || record.network === "allowlist" ? "allowlist" : "egress");
  if (mode !== "allowlist") return { mode, allow: allow ?? [], deny: deny ?? [] };
  // changing one list of an allowlist keeps the other
  const current = networkPolicyOf(record);
  return { mode, allow: withPorts(allow ?? current.allow, ports), deny: deny ?? current.deny };
}

// Every entry that names no port once per port (ports absent: unchanged).
function withPorts(entries: readonly string[], ports: readonly number[] | undefined): string[] {
  if (!ports || ports.length === 0) return [...entries];
  return entries.flatMap((text) => {
    const entry = parseAllowEntry(text);
    return entry.port !== undefined ? [text] : ports.map((port) => formatAllowEntry({ ...entry, port }));
  });
}

async function policyView(ctx: OperationContext, record: WorkspaceRecord) {
  const policy = networkPolicyOf(record);
  const running = record.state === "running" || record.state === "paused";
  const traffic = running ? await ctx.services.engine.workspaces.runtimeOf(record).networkTraffic?.(record.id).catch(() => undefined) : undefined;
  return {
    workspace: record.name,
    network: policy.mode,
    allow: policy.allow,
    deny: policy.deny,
    interWorkspace: false as const,
    ...(traffic && {
      traffic: { allowedConnections: traffic.allowed, refusedConnections: traffic.refused, namesAnswered: traffic.namesAnswered, namesRefused: traffic.namesRefused },
    }),
  };
}
