// Running commands in a workspace: exec (wait for the result), exec_background (jobs that
// outlive the call), exec_parallel (the same or different commands across workspaces), set_env.
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import { MAX_EXEC_INLINE_BYTES } from "../protocol/version.js";
import { defineOperation, type OperationContext } from "./operation.js";
import { guestFor } from "./guest-for.js";
import { WorkspaceRef } from "./common-schemas.js";

const MAX_OUTPUT_BYTES = MAX_EXEC_INLINE_BYTES;
const EnvVars = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "environment variable names are letters, digits and _"), z.string().max(65536));

const CommandArgs = {
  command: z.string().min(1).max(131072).optional().describe("Shell command line, run with /bin/sh -c. Give this or argv"),
  argv: z.array(z.string().max(131072)).min(1).max(4096).optional().describe("Program and arguments, run without a shell"),
  workdir: z.string().min(1).max(4096).optional().describe("Working directory inside the workspace (default /)"),
  env: EnvVars.optional().describe("Extra environment variables for this command only"),
};

const ExecInput = z
  .object({
    workspace: WorkspaceRef,
    ...CommandArgs,
    stdin: z.string().max(16 * 1024 * 1024).optional().describe("Text written to the command's stdin"),
    timeoutMs: z.number().int().min(1).max(24 * 3600 * 1000).optional().describe("Kill the command (and its children) after this many ms; default 10 minutes"),
    maxOutputBytes: z.number().int().min(1).max(MAX_OUTPUT_BYTES).optional().describe(`Cap per stream (stdout, stderr); default and maximum ${MAX_OUTPUT_BYTES} bytes; truncated=true past it`),
  })
  .strict();

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

async function runExec(ctx: OperationContext, input: z.output<typeof ExecInput>) {
  const { guest } = await guestFor(ctx, input.workspace);
  return guest.exec(
    {
      ...toCommand(input),
      ...(input.stdin !== undefined && { stdin: input.stdin }),
      commandTimeoutMs: input.timeoutMs ?? 600_000,
      maxOutputBytes: input.maxOutputBytes ?? MAX_OUTPUT_BYTES,
    },
    { signal: ctx.signal },
  );
}

export const exec = defineOperation({
  name: "exec",
  description: "Run a command in a workspace and wait for it. Returns exitCode, stdout, stderr (a non-zero exit is a result, not an error).",
  category: "exec",
  input: ExecInput,
  run: runExec,
});

export const execBackground = defineOperation({
  name: "exec_background",
  description: "Background jobs: start a long command, poll its output and state, kill it (signal), or list jobs.",
  category: "exec",
  input: z
    .object({
      workspace: WorkspaceRef,
      action: z.enum(["start", "poll", "kill", "list"]).describe("start needs command or argv; poll and kill need jobId"),
      jobId: z.string().min(1).max(64).optional().describe("Job id returned by start"),
      signal: z.enum(["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT"]).optional().describe("Signal for kill (default SIGTERM)"),
      ...CommandArgs,
    })
    .strict(),
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    const call = { signal: ctx.signal };
    switch (input.action) {
      case "start":
        return guest.startJob(toCommand(input), call);
      case "list":
        return guest.listJobs(call);
      case "poll":
      case "kill": {
        if (input.jobId === undefined) throw new AgentisoError("INVALID_INPUT", `exec_background ${input.action} needs jobId`);
        return input.action === "poll" ? guest.pollJob(input.jobId, call) : guest.killJob(input.jobId, input.signal ?? "SIGTERM", call);
      }
    }
  },
});

export const execParallel = defineOperation({
  name: "exec_parallel",
  description: "Run commands in several workspaces at once; returns one result (or error) per entry, in order.",
  category: "exec",
  input: z
    .object({
      runs: z.array(ExecInput).min(1).max(64).describe("One exec per entry (each names its workspace)"),
    })
    .strict(),
  cost: (input) => input.runs.length,
  run: async (ctx, input) => {
    const settled = await Promise.allSettled(input.runs.map((run) => runExec(ctx, run)));
    return settled.map((s, i) => {
      const workspace = input.runs[i]!.workspace;
      if (s.status === "fulfilled") return { workspace, ok: true, result: s.value };
      const error = s.reason instanceof AgentisoError ? s.reason.toJSON() : { code: "INTERNAL", message: String(s.reason) };
      return { workspace, ok: false, error };
    });
  },
});

export const setEnv = defineOperation({
  name: "set_env",
  description: "Set environment variables for every later command in the workspace. Held in the agent's memory only, never written to disk (use it for API keys). Empty unset list removes nothing.",
  category: "other",
  input: z
    .object({
      workspace: WorkspaceRef,
      vars: EnvVars.default({}).describe("Variables to set"),
      unset: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).max(1024).optional().describe("Variable names to remove"),
    })
    .strict(),
  run: async (ctx, input) => {
    const { record, guest } = await guestFor(ctx, input.workspace);
    if (Object.keys(input.vars).length > 0) await guest.setEnv(input.vars, { signal: ctx.signal });
    if (input.unset?.length) await guest.unsetEnv(input.unset, { signal: ctx.signal });
    // Names only: values may be secrets and must not travel back into logs.
    return { workspace: record.name, set: Object.keys(input.vars), unset: input.unset ?? [] };
  },
});
