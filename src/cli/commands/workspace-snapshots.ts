// `agentiso workspace snapshot|snapshots|restore|snapshot-rm` (fork: fork-command.ts).
import type { CliCommand } from "../command.js";
import { requirePositionals } from "../command.js";
import { formatBytes } from "../../config/size.js";
import { table } from "../format.js";
import { runOperation } from "../cli-context.js";
import { contracts } from "../../contract/registry.js";
import { SnapshotSchema, WorkspaceSchema } from "../../contract/result-schemas.js";

export const snapshotCommand: CliCommand = {
  name: "snapshot",
  usage: "snapshot WS NAME [--memory] [--json]",
  summary: "snapshot a workspace (--memory: a running VM's memory too; its forks resume instead of booting)",
  options: { memory: { type: "boolean" } },
  async run(ctx, values, positionals) {
    const [workspace, name] = requirePositionals(this, positionals, 2);
    const includeMemory = values.memory === true ? { includeMemory: true } : {};
    const snap = SnapshotSchema.parse(await runOperation(ctx, contracts.snapshot, { workspace, action: "create", name, ...includeMemory }));
    if (values.json) ctx.json(snap);
    else ctx.out(`${workspace}@${snap.name} created${snap.memoryBytes === undefined ? "" : ` with ${formatBytes(snap.memoryBytes)} of memory`}\n`);
    return 0;
  },
};

export const snapshotsCommand: CliCommand = {
  name: "snapshots",
  usage: "snapshots WS [--json]",
  summary: "list a workspace's snapshots",
  async run(ctx, values, positionals) {
    const [workspace] = requirePositionals(this, positionals, 1);
    const list = SnapshotSchema.array().parse(await runOperation(ctx, contracts.snapshot, { workspace, action: "list" }));
    if (values.json) ctx.json(list);
    else ctx.out(table(list.map((s) => [s.name, s.createdAt, s.memoryBytes === undefined ? "-" : formatBytes(s.memoryBytes), s.dependents.join(",")]), ["NAME", "CREATED", "MEMORY", "FORKS"]));
    return 0;
  },
};

export const restoreCommand: CliCommand = {
  name: "restore",
  usage: "restore WS NAME [--json]",
  summary: "roll a workspace back to a snapshot",
  async run(ctx, values, positionals) {
    const [workspace, name] = requirePositionals(this, positionals, 2);
    const ws = WorkspaceSchema.parse(await runOperation(ctx, contracts.snapshot, { workspace, action: "restore", name }));
    if (values.json) ctx.json(ws);
    else ctx.out(`${ws.name} restored to ${name}\n`);
    return 0;
  },
};

export const snapshotRmCommand: CliCommand = {
  name: "snapshot-rm",
  usage: "snapshot-rm WS NAME [--json]",
  summary: "delete a snapshot (refused while forks of it exist)",
  async run(ctx, values, positionals) {
    const [workspace, name] = requirePositionals(this, positionals, 2);
    const result = await runOperation(ctx, contracts.snapshot, { workspace, action: "delete", name });
    if (values.json) ctx.json(result);
    else ctx.out(`${workspace}@${name} deleted\n`);
    return 0;
  },
};

