// Running commands in a workspace: exec (wait for the result), exec_background (jobs that
// outlive the call), exec_parallel (the same or different commands across workspaces), set_env.
import type { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import { defineOperation, type OperationContext } from "./operation.js";
import { guestFor } from "./guest-for.js";
import { contracts } from "../contract/registry.js";
import type { OutputOf } from "../contract/contract.js";
import { ExecInput, MAX_EXEC_OUTPUT_BYTES } from "../contract/exec-contracts.js";
import { execBackgroundable, execStreamed, followJobOutput } from "./exec-streaming.js";

type CommandInput = { command?: string | undefined; argv?: string[] | undefined; workdir?: string | undefined; env?: Record<string, string> | undefined };

function toCommand(input: CommandInput) {
  if ((input.command === undefined) === (input.argv === undefined)) {
    throw new AgentisoError("INVALID_INPUT", "give exactly one of command (a shell line) or argv (a program and its arguments)");
  }
  return {
    ...(input.command !== undefined && { shell: input.command }),
    ...(input.argv !== undefined && { argv: input.argv }),
    ...(input.workdir !== undefined && { cwd: input.workdir }),
    ...(input.env !== undefined && { env: input.env }),
  };
}

async function runExec(ctx: OperationContext, input: z.output<typeof ExecInput>): Promise<OutputOf<typeof contracts.exec>> {
  const outputInResult = input.outputInResult ?? true;
  if (!outputInResult && !ctx.progress) {
    throw new AgentisoError("INVALID_INPUT", "outputInResult: false needs a progress stream (an MCP progress token, or Accept: application/x-ndjson on the control API)");
  }
  const { guest } = await guestFor(ctx, input.workspace);
  const command = toCommand(input);
  const exec = {
    command,
    ...(input.stdin !== undefined && { stdin: input.stdin }),
    timeoutMs: input.timeoutMs ?? 600_000,
    maxOutputBytes: input.maxOutputBytes ?? MAX_EXEC_OUTPUT_BYTES,
    outputInResult,
  };
  if (input.backgroundAfterMs !== undefined) return execBackgroundable(ctx, guest, { ...exec, backgroundAfterMs: input.backgroundAfterMs });
  if (ctx.progress) return execStreamed(ctx, guest, exec);
  return guest.exec(
    { ...command, ...(exec.stdin !== undefined && { stdin: exec.stdin }), commandTimeoutMs: exec.timeoutMs, maxOutputBytes: exec.maxOutputBytes },
    { signal: ctx.signal },
  );
}

export const exec = defineOperation(contracts.exec, {
  run: runExec,
  execs: () => 1,
});

export const execBackground = defineOperation(contracts.execBackground, {
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    const call = { signal: ctx.signal };
    switch (input.action) {
      case "start":
        return guest.startJob({ ...toCommand(input), ...(input.timeoutMs !== undefined && { timeoutMs: input.timeoutMs }) }, call);
      case "list":
        return guest.listJobs(call);
      case "poll":
      case "follow":
      case "kill": {
        if (input.jobId === undefined) throw new AgentisoError("INVALID_INPUT", `exec_background ${input.action} needs jobId`);
        if (input.action === "kill") return guest.killJob(input.jobId, input.signal ?? "SIGTERM", call);
        // follow streams the output to the caller, then answers like poll (state and the output's tail)
        if (input.action === "follow") await followJobOutput(ctx, guest, input.jobId, input.waitMs);
        return guest.pollJob(input.jobId, call);
      }
    }
  },
});

export const execParallel = defineOperation(contracts.execParallel, {
  cost: (input) => (input.runs ?? input.workspaces ?? []).length,
  execs: (input) => (input.runs ?? input.workspaces ?? []).length,
  run: async (ctx, input) => {
    const runs = parallelRuns(input);
    // each run's output comes back in its result: chunks of many workspaces on one progress stream would say nothing of whose they are
    const { progress: _unused, ...buffered } = ctx;
    const settled = await Promise.allSettled(runs.map((run) => runExec(buffered, run)));
    return settled.map((s, i) => {
      const workspace = runs[i]!.workspace;
      if (s.status === "fulfilled") return { workspace, ok: true, result: s.value };
      const error = s.reason instanceof AgentisoError ? s.reason.toJSON() : { code: "INTERNAL", message: String(s.reason) };
      return { workspace, ok: false, error };
    });
  },
});

// The runs of either form: `runs` as given, or the one command once per workspace.
function parallelRuns(input: z.output<typeof contracts.execParallel.input>): Array<z.output<typeof ExecInput>> {
  const { runs, workspaces, ...command } = input;
  if ((runs === undefined) === (workspaces === undefined)) throw new AgentisoError("INVALID_INPUT", "give exactly one of workspaces (one command for all) or runs (one exec each)");
  if (runs !== undefined) {
    const extra = Object.entries(command).filter(([, value]) => value !== undefined).map(([key]) => key);
    if (extra.length > 0) throw new AgentisoError("INVALID_INPUT", `with runs, give ${extra.join(", ")} inside each run`);
    return runs;
  }
  return workspaces!.map((workspace) => ({ ...command, workspace }));
}

export const setEnv = defineOperation(contracts.setEnv, {
  run: async (ctx, input) => {
    const { record, guest } = await guestFor(ctx, input.workspace);
    if (Object.keys(input.vars).length > 0) await guest.setEnv(input.vars, { signal: ctx.signal });
    if (input.unset?.length) await guest.unsetEnv(input.unset, { signal: ctx.signal });
    // Names only: values may be secrets and must not travel back into logs.
    return { workspace: record.name, set: Object.keys(input.vars), unset: input.unset ?? [] };
  },
});
