// `agentiso workspace create|ls|info|logs|start|stop|destroy|network` — thin mappers onto
// the workspace_* operations.
import type { CliCommand } from "../command.js";
import { requirePositionals, stringValue, numberValue } from "../command.js";
import { workspaceTable } from "../format.js";
import { runOperation } from "../cli-context.js";
import { contracts } from "../../contract/registry.js";
import { outputBytesOf } from "../../contract/output-event.js";
import { listFlag, NETWORK_OPTIONS, NETWORK_USAGE, networkFlags } from "../network-flags.js";
import { LIFECYCLE_OPTIONS, LIFECYCLE_USAGE, lifecycleFlags, lifecycleLines } from "../lifecycle-flags.js";

export const createCommand: CliCommand = {
  name: "create",
  usage: `create [--image base] [--name N] [--memory 512M] [--cpus 1] [--disk 4G] ${NETWORK_USAGE} [--runtime container|vm] ${LIFECYCLE_USAGE} [--json]`,
  summary: "create and start a workspace",
  options: {
    image: { type: "string" },
    name: { type: "string" },
    memory: { type: "string" },
    cpus: { type: "string" },
    disk: { type: "string" },
    ...NETWORK_OPTIONS,
    runtime: { type: "string" },
    "pids-limit": { type: "string" },
    ...LIFECYCLE_OPTIONS,
  },
  async run(ctx, values) {
    const input = {
      image: stringValue(values, "image"),
      name: stringValue(values, "name"),
      memory: stringValue(values, "memory"),
      cpus: numberValue(values, "cpus"),
      disk: stringValue(values, "disk"),
      ...networkFlags(values),
      runtime: stringValue(values, "runtime"),
      pidsLimit: numberValue(values, "pids-limit"),
      ...lifecycleFlags(values),
    };
    const ws = await runOperation(ctx, contracts.workspaceCreate, input);
    if (values.json) ctx.json(ws);
    else ctx.out(`${ws.name} ${ws.id} ${ws.state}\n`);
    return 0;
  },
};

export const listCommand: CliCommand = {
  name: "ls",
  aliases: ["list"],
  usage: "ls [--json]",
  summary: "list workspaces",
  async run(ctx, values) {
    const list = await runOperation(ctx, contracts.workspaceList, {});
    if (values.json) ctx.json(list);
    else ctx.out(workspaceTable(list));
    return 0;
  },
};

export const infoCommand: CliCommand = {
  name: "info",
  usage: "info WS [--json]",
  summary: "show one workspace",
  async run(ctx, values, positionals) {
    const [workspace] = requirePositionals(this, positionals, 1);
    const info = await runOperation(ctx, contracts.workspaceInfo, { workspace });
    if (values.json) ctx.json(info);
    else {
      const { lifecycle: _shownBelow, ...rest } = info;
      ctx.out([...Object.entries(rest).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`), ...lifecycleLines(info)].join("\n") + "\n");
    }
    return 0;
  },
};

export const logsCommand: CliCommand = {
  name: "logs",
  usage: "logs WS [-f|--follow] [--job ID]",
  summary: "print the workspace's console and agent log, or a background job's output (--job); -f follows it as it grows",
  options: { follow: { type: "boolean", short: "f" }, job: { type: "string" } },
  async run(ctx, values, positionals) {
    const workspace = requirePositionals(this, positionals, 1)[0]!;
    const job = stringValue(values, "job");
    const follow = values.follow === true;
    const client = await ctx.daemon();
    const print = (event: unknown) => {
      const output = outputBytesOf(event);
      if (output) return ctx.write(output.stream === "stderr" ? "stderr" : "stdout", output.bytes);
    };
    if (job !== undefined) {
      if (!follow) {
        const info = await client.run(contracts.execBackground, { workspace, action: "poll", jobId: job });
        const polled = Array.isArray(info) ? undefined : info;
        ctx.out(polled?.stdout ?? "");
        ctx.err(polled?.stderr ?? "");
        return 0;
      }
      const info = await client.runStreaming(contracts.execBackground, { workspace, action: "follow", jobId: job }, print);
      const ended = Array.isArray(info) ? undefined : info;
      return ended?.exitCode ?? 0;
    }
    if (!follow) {
      ctx.out((await runOperation(ctx, contracts.workspaceLogs, { workspace })).log);
      return 0;
    }
    // the daemon streams the tail, then what comes, until ctrl-C (or a day)
    await client.runStreaming(contracts.workspaceLogs, { workspace, followMs: 24 * 3600 * 1000 }, print);
    return 0;
  },
};

/** The contracts of `ws start|stop|pause|resume`: a workspace in, the workspace after out. */
type StateContract = typeof contracts.workspaceStart | typeof contracts.workspaceStop | typeof contracts.workspacePause | typeof contracts.workspaceResume;

// `NAME WS`: runs the contract and prints the workspace's name and new state.
export function stateCommand(name: string, contract: StateContract, summary: string): CliCommand {
  return {
    name,
    usage: `${name} WS [--json]`,
    summary,
    async run(ctx, values, positionals) {
      const [workspace] = requirePositionals(this, positionals, 1);
      const result = await runOperation(ctx, contract, { workspace });
      if (values.json) ctx.json(result);
      else ctx.out(`${result.name} ${result.state}\n`);
      return 0;
    },
  };
}

export const startCommand = stateCommand("start", contracts.workspaceStart, "start a stopped workspace");
export const stopCommand = stateCommand("stop", contracts.workspaceStop, "stop a workspace (files kept)");

export const destroyCommand: CliCommand = {
  name: "destroy",
  aliases: ["rm"],
  usage: "destroy WS... [--json]",
  summary: "destroy workspaces with their files and snapshots",
  async run(ctx, values, positionals) {
    requirePositionals(this, positionals, 1);
    const destroyed = [];
    for (const workspace of positionals) destroyed.push(await runOperation(ctx, contracts.workspaceDestroy, { workspace }));
    if (values.json) ctx.json(destroyed);
    else ctx.out(destroyed.map((d) => `${d.destroyed} destroyed\n`).join(""));
    return 0;
  },
};

export const networkCommand: CliCommand = {
  name: "network",
  usage: "network WS [none|egress|allowlist --allow HOST[:PORT]|CIDR... [--deny HOST|CIDR]... [--ports 443,80]] [--json]",
  summary: "show or switch a workspace's network policy (live); with no mode, show it and its counters",
  options: { allow: NETWORK_OPTIONS.allow, deny: NETWORK_OPTIONS.deny, ports: { type: "string" } },
  async run(ctx, values, positionals) {
    const [workspace, mode] = requirePositionals(this, positionals, 1);
    const ports = listFlag(values, "ports")?.map(Number);
    const { allow, deny } = networkFlags(values);
    const input = { workspace, ...(mode !== undefined && { mode }), ...(allow && { allow }), ...(deny && { deny }), ...(ports && { ports }) };
    const policy = await runOperation(ctx, contracts.networkPolicy, input);
    if (values.json) ctx.json(policy);
    else ctx.out(networkLines(policy));
    return 0;
  },
};

function networkLines(policy: { workspace: string; network: string; allow: string[]; deny: string[]; traffic?: Record<string, number> }): string {
  const lines = [`${policy.workspace} network ${policy.network}`];
  if (policy.allow.length > 0) lines.push(`allow ${policy.allow.join(" ")}`);
  if (policy.deny.length > 0) lines.push(`deny ${policy.deny.join(" ")}`);
  if (policy.traffic) lines.push(Object.entries(policy.traffic).map(([key, value]) => `${key} ${value}`).join("  "));
  return lines.join("\n") + "\n";
}
