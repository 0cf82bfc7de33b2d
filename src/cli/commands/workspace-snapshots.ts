// `agentiso workspace snapshot|snapshots|restore|snapshot-rm|fork`.
import type { CliCommand } from "../command.js";
import { numberValue, requirePositionals, stringValue } from "../command.js";
import { table, workspaceTable } from "../format.js";
import { runOperation } from "../cli-context.js";
import { contracts } from "../../contract/registry.js";
import { SnapshotSchema, WorkspaceSchema } from "../../contract/result-schemas.js";
import { NETWORK_OPTIONS, NETWORK_USAGE, networkFlags } from "../network-flags.js";
import { LIFECYCLE_OPTIONS, LIFECYCLE_USAGE, lifecycleFlags } from "../lifecycle-flags.js";

export const snapshotCommand: CliCommand = {
  name: "snapshot",
  usage: "snapshot WS NAME [--json]",
  summary: "snapshot a workspace",
  async run(ctx, values, positionals) {
    const [workspace, name] = requirePositionals(this, positionals, 2);
    const snap = SnapshotSchema.parse(await runOperation(ctx, contracts.snapshot, { workspace, action: "create", name }));
    if (values.json) ctx.json(snap);
    else ctx.out(`${workspace}@${snap.name} created\n`);
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
    else ctx.out(table(list.map((s) => [s.name, s.createdAt, s.dependents.join(",")]), ["NAME", "CREATED", "FORKS"]));
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

export const forkCommand: CliCommand = {
  name: "fork",
  usage: `fork WS --snapshot NAME [--count N] [--name-prefix P] ${NETWORK_USAGE} ${LIFECYCLE_USAGE} [--json]`,
  summary: "fork workspaces from a snapshot (copy-on-write); a fork has its origin's network policy unless given one",
  options: { snapshot: { type: "string" }, count: { type: "string" }, "name-prefix": { type: "string" }, name: { type: "string" }, ...NETWORK_OPTIONS, ...LIFECYCLE_OPTIONS },
  async run(ctx, values, positionals) {
    const [workspace] = requirePositionals(this, positionals, 1);
    const forks = await runOperation(ctx, contracts.workspaceFork, {
      workspace,
      snapshot: stringValue(values, "snapshot"),
      count: numberValue(values, "count"),
      namePrefix: stringValue(values, "name-prefix"),
      name: stringValue(values, "name"),
      ...networkFlags(values),
      ...lifecycleFlags(values),
    });
    if (values.json) ctx.json(forks);
    else ctx.out(workspaceTable(forks));
    return 0;
  },
};
