// `agentiso workspace create|ls|info|logs|start|stop|destroy|network` — thin mappers onto
// the workspace_* operations.
import type { CliCommand } from "../command.js";
import { requirePositionals, stringValue, numberValue } from "../command.js";
import { workspaceTable } from "../format.js";
import { runOperation } from "../cli-context.js";
import { contracts } from "../../contract/registry.js";
import { LIFECYCLE_OPTIONS, LIFECYCLE_USAGE, lifecycleFlags, lifecycleLines } from "../lifecycle-flags.js";

export const createCommand: CliCommand = {
  name: "create",
  usage: `create [--image base] [--name N] [--memory 512M] [--cpus 1] [--disk 4G] [--network none|egress] [--runtime container|vm] ${LIFECYCLE_USAGE} [--json]`,
  summary: "create and start a workspace",
  options: {
    image: { type: "string" },
    name: { type: "string" },
    memory: { type: "string" },
    cpus: { type: "string" },
    disk: { type: "string" },
    network: { type: "string" },
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
      network: stringValue(values, "network"),
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
  usage: "logs WS",
  summary: "print the workspace's console and agent log",
  async run(ctx, _values, positionals) {
    const [workspace] = requirePositionals(this, positionals, 1);
    const { log } = await runOperation(ctx, contracts.workspaceLogs, { workspace });
    ctx.out(log);
    return 0;
  },
};

function simple(name: string, contract: typeof contracts.workspaceStart | typeof contracts.workspaceStop, summary: string): CliCommand {
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

export const startCommand = simple("start", contracts.workspaceStart, "start a stopped workspace");
export const stopCommand = simple("stop", contracts.workspaceStop, "stop a workspace (files kept)");

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
  usage: "network WS none|egress [--json]",
  summary: "switch a workspace's network mode",
  async run(ctx, values, positionals) {
    const [workspace, mode] = requirePositionals(this, positionals, 2);
    const ws = await runOperation(ctx, contracts.workspaceNetwork, { workspace, mode });
    if (values.json) ctx.json(ws);
    else ctx.out(`${ws.name} network ${ws.network}\n`);
    return 0;
  },
};
