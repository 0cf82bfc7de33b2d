// Running commands in a workspace: exec (wait for the result), exec_background (jobs that
// outlive the call), exec_parallel (several workspaces at once), set_env.
import { z } from "zod";
import { MAX_EXEC_INLINE_BYTES } from "../protocol/version.js";
import { defineContract } from "./contract.js";
import { WorkspaceRef } from "./common-schemas.js";
import { ErrorSchema, ExecResultSchema, JobInfoSchema } from "./result-schemas.js";

export const MAX_EXEC_OUTPUT_BYTES = MAX_EXEC_INLINE_BYTES;
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "environment variable names are letters, digits and _");
export const EnvVars = z.record(EnvName, z.string().max(65536));

const CommandArgs = {
  command: z.string().min(1).max(131072).optional().describe("Shell command line, run with /bin/sh -c. Give this or argv"),
  argv: z.array(z.string().max(131072)).min(1).max(4096).optional().describe("Program and arguments, run without a shell"),
  workdir: z.string().min(1).max(4096).optional().describe("Working directory inside the workspace (default /)"),
  env: EnvVars.optional().describe("Extra environment variables for this command only"),
};

export const ExecInput = z
  .object({
    workspace: WorkspaceRef,
    ...CommandArgs,
    stdin: z.string().max(16 * 1024 * 1024).optional().describe("Text written to the command's stdin"),
    timeoutMs: z.number().int().min(1).max(24 * 3600 * 1000).optional().describe("Kill the command (and its children) after this many ms; default 10 minutes"),
    maxOutputBytes: z
      .number()
      .int()
      .min(1)
      .max(MAX_EXEC_OUTPUT_BYTES)
      .optional()
      .describe(`Cap per stream (stdout, stderr) on what the result holds; default and maximum ${MAX_EXEC_OUTPUT_BYTES} bytes; truncated=true past it`),
    backgroundAfterMs: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600 * 1000)
      .optional()
      .describe("If the command still runs after this many ms, return at once with its jobId (exitCode null) and let it run on as a background job (exec_background poll/follow/kill); timeoutMs still applies to it"),
    outputInResult: z
      .boolean()
      .optional()
      .describe("Default true. false: the output goes only to the progress stream (control API NDJSON, MCP progress notifications), unbounded, and the result's stdout/stderr stay empty; needs a progress stream"),
  })
  .strict();

export const exec = defineContract({
  name: "exec",
  title: "Run a command",
  description:
    "Run a command in a workspace and wait for it. Returns exitCode, stdout, stderr (a non-zero exit is a result, not an error). With a progress token (MCP) or an NDJSON stream (control API) the output also arrives as it comes; with backgroundAfterMs a long command returns a jobId and runs on.",
  category: "exec",
  input: ExecInput,
  output: ExecResultSchema,
  streamsProgress: true,
});

export const execBackground = defineContract({
  name: "exec_background",
  title: "Manage background jobs",
  description:
    "Background jobs: start a long command, poll its output and state, follow its output as it comes until it ends (progress events), kill it (signal), or list jobs.",
  category: "exec",
  streamsProgress: true,
  input: z
    .object({
      workspace: WorkspaceRef,
      action: z.enum(["start", "poll", "follow", "kill", "list"]).describe("start needs command or argv; poll, follow and kill need jobId"),
      jobId: z.string().min(1).max(64).optional().describe("Job id returned by start"),
      timeoutMs: z.number().int().min(1).max(24 * 3600 * 1000).optional().describe("start: kill the job after this many ms"),
      waitMs: z.number().int().min(1).max(24 * 3600 * 1000).optional().describe("follow: stop following after this many ms and return the job's state (it runs on); default: until it ends"),
      signal: z.enum(["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT"]).optional().describe("Signal for kill (default SIGTERM)"),
      ...CommandArgs,
    })
    .strict(),
  output: z.union([JobInfoSchema, z.array(JobInfoSchema)]).describe("The job (start, poll, kill) or every job (list)"),
});

export const MAX_PARALLEL_RUNS = 64;

export const execParallel = defineContract({
  name: "exec_parallel",
  title: "Run commands in several workspaces",
  description:
    "Run commands in several workspaces at once: either one command in every workspace of `workspaces` (command or argv, and the exec options, given once), or `runs`, one exec each (each names its workspace). Returns one result (or error) per workspace or run, in order.",
  category: "exec",
  input: ExecInput.omit({ workspace: true, backgroundAfterMs: true, outputInResult: true })
    .extend({
      workspaces: z.array(WorkspaceRef).min(1).max(MAX_PARALLEL_RUNS).optional().describe("Run the one command given here in each of these workspaces"),
      runs: z.array(ExecInput).min(1).max(MAX_PARALLEL_RUNS).optional().describe("Or: one exec per entry, each naming its workspace (then give no command here)"),
    })
    .strict(),
  output: z.array(
    z.union([
      z.object({ workspace: z.string(), ok: z.literal(true), result: ExecResultSchema }),
      z.object({ workspace: z.string(), ok: z.literal(false), error: ErrorSchema }),
    ]),
  ),
});

export const setEnv = defineContract({
  name: "set_env",
  title: "Set environment variables",
  description:
    "Set environment variables for every later command in the workspace. Held in the agent's memory only, never written to disk (use it for API keys). Empty unset list removes nothing.",
  category: "other",
  hints: { idempotent: true },
  input: z
    .object({
      workspace: WorkspaceRef,
      vars: EnvVars.default({}).describe("Variables to set"),
      unset: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).max(1024).optional().describe("Variable names to remove"),
    })
    .strict(),
  output: z.object({ workspace: z.string(), set: z.array(z.string()).describe("Names set (values are never echoed)"), unset: z.array(z.string()) }),
});
