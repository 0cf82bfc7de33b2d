// `agentiso workspace fork`: forks workspaces from a snapshot and, given `-- CMD`, runs the
// command in the new workspace from the same CLI process (one node start instead of two: the
// largest part of a CLI call here). A hot command, like exec-command.ts: nothing it imports
// loads the contracts, so the fast path (../fast-path.ts) runs it in a bare node.
import { AgentisoError } from "../../core/errors.js";
import type { OutputOf } from "../../contract/contract.js";
import type { Contracts } from "../../contract/registry.js";
import { numberValue, requirePositionals, stringValue } from "../command.js";
import { workspaceTable } from "../format.js";
import { LIFECYCLE_OPTIONS, LIFECYCLE_USAGE, lifecycleFlags } from "../lifecycle-flags.js";
import { NETWORK_OPTIONS, NETWORK_USAGE, networkFlags } from "../network-flags.js";
import { EXEC_OPTIONS, streamExec, type HotCommand } from "./exec-command.js";
import { HOT_OPERATIONS } from "./hot-operations.js";

export const forkCommand: HotCommand = {
  name: "fork",
  usage: `fork WS --snapshot NAME [--count N] [--name-prefix P] [--name N] ${NETWORK_USAGE} ${LIFECYCLE_USAGE} [--json] [-- CMD [ARGS...]]`,
  summary:
    "fork workspaces from a snapshot (copy-on-write); a fork has its origin's network policy unless given one; with -- CMD, run CMD in the one new fork (exec's flags apply; exit code: the command's)",
  options: { snapshot: { type: "string" }, count: { type: "string" }, "name-prefix": { type: "string" }, name: { type: "string" }, ...NETWORK_OPTIONS, ...LIFECYCLE_OPTIONS, ...EXEC_OPTIONS },
  async run(ctx, values, positionals) {
    const [workspace, ...argv] = requirePositionals(this, positionals, 1);
    const count = numberValue(values, "count");
    if (argv.length > 0 && ((count ?? 1) !== 1 || values.json)) throw new AgentisoError("INVALID_INPUT", `a command after -- runs in one new fork: leave out --count and --json\nusage: agentiso workspace ${this.usage}`);
    const execFlags = Object.keys(EXEC_OPTIONS).filter((flag) => values[flag] !== undefined);
    if (argv.length === 0 && execFlags.length > 0) throw new AgentisoError("INVALID_INPUT", `--${execFlags[0]} goes with a command after --\nusage: agentiso workspace ${this.usage}`);
    const input = ctx.check("workspaceFork", {
      workspace,
      snapshot: stringValue(values, "snapshot"),
      count,
      namePrefix: stringValue(values, "name-prefix"),
      name: stringValue(values, "name"),
      ...networkFlags(values),
      ...lifecycleFlags(values),
    });
    const forks = await (await ctx.daemon()).call<OutputOf<Contracts["workspaceFork"]>>(HOT_OPERATIONS.workspaceFork, input);
    if (argv.length === 0) {
      if (values.json) ctx.json(forks);
      else ctx.out(workspaceTable(forks));
      return 0;
    }
    const fork = forks[0]!;
    ctx.err(`agentiso: forked ${fork.name} (${fork.id}) from ${workspace}@${input.snapshot}\n`);
    return streamExec(ctx, fork.id, argv, values);
  },
};
