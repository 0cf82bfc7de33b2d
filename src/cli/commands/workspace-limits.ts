// `agentiso workspace pause|resume|lifecycle`: freeze and thaw a workspace, and change its ttl
// and idle timeout (workspace_pause, workspace_resume, workspace_lifecycle).
import type { CliCommand } from "../command.js";
import { requirePositionals } from "../command.js";
import { runOperation } from "../cli-context.js";
import { contracts } from "../../contract/registry.js";
import { stateCommand } from "./workspace-lifecycle.js";
import { LIFECYCLE_OPTIONS, LIFECYCLE_USAGE, lifecycleFlags, lifecycleLines } from "../lifecycle-flags.js";

export const pauseCommand = stateCommand("pause", contracts.workspacePause, "freeze every process of a workspace (no CPU, memory and files kept; exec answers CONFLICT until resume)");
export const resumeCommand = stateCommand("resume", contracts.workspaceResume, "let a paused workspace run again");

export const lifecycleCommand: CliCommand = {
  name: "lifecycle",
  usage: `lifecycle WS ${LIFECYCLE_USAGE} [--json]`,
  summary: 'show or change when a workspace is stopped or destroyed: --ttl counts from now, --idle-timeout from its last use (90s, 30m, 2h, 1d; "none" removes one)',
  options: LIFECYCLE_OPTIONS,
  async run(ctx, values, positionals) {
    const [workspace] = requirePositionals(this, positionals, 1);
    const ws = await runOperation(ctx, contracts.workspaceLifecycle, { workspace, ...lifecycleFlags(values) });
    if (values.json) ctx.json(ws);
    else ctx.out([`${ws.name} ${ws.state}`, ...(lifecycleLines(ws).length > 0 ? lifecycleLines(ws) : ["no ttl, no idle timeout"])].join("\n") + "\n");
    return 0;
  },
};
