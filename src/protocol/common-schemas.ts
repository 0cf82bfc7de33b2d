// Field schemas shared by many messages.
import { z } from "zod";

/** Client-chosen request ids are positive; agent-opened streams (tunnel_accept) are negative. */
export const IdSchema = z.number().int().safe().describe("request or stream id this message belongs to");
export const RequestIdSchema = z.number().int().positive().safe().describe("client-chosen id, unique among this connection's unfinished requests");

export const Base64Schema = z.string().describe("binary data, base64-encoded");
export const PathSchema = z.string().min(1).max(4096).describe("absolute path, or relative to the agent's working directory");
export const EnvSchema = z.record(z.string(), z.string()).describe("environment variables");
export const PortSchema = z.number().int().min(0).max(65535);

export const SIGNALS = ["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGSTOP", "SIGCONT"] as const;
export const SignalSchema = z.enum(SIGNALS).describe("signal name");

/** What to run: exactly one of argv (no shell) or shell (run by /bin/sh -c). */
export const CommandFields = {
  argv: z.array(z.string()).min(1).optional().describe("program and arguments, run without a shell"),
  shell: z.string().optional().describe("command line run with /bin/sh -c"),
  cwd: z.string().optional().describe("working directory"),
  env: EnvSchema.optional().describe("variables added on top of the agent env and set_env values"),
};

export const JobInfoSchema = z.object({
  jobId: z.string(),
  command: z.string().describe("argv joined by spaces, or the shell string"),
  pid: z.number().int(),
  running: z.boolean(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  startedAtMs: z.number(),
  stdout: z.string().optional().describe("tail of stdout kept in the job's ring buffer (UTF-8)"),
  stderr: z.string().optional().describe("tail of stderr kept in the job's ring buffer (UTF-8)"),
  truncated: z.boolean().describe("older output was dropped from the ring buffer"),
  timedOut: z.boolean().optional().describe("killed because it ran past the timeoutMs it was started with"),
});
export type JobInfo = z.infer<typeof JobInfoSchema>;

export const FileKindSchema = z.enum(["file", "directory", "symlink", "other"]);
export const FileStatSchema = z.object({
  kind: FileKindSchema,
  sizeBytes: z.number(),
  mode: z.number().int().describe("permission bits, e.g. 420 for 0644"),
  mtimeMs: z.number(),
});
export type FileStat = z.infer<typeof FileStatSchema>;
export const DirEntrySchema = FileStatSchema.extend({ name: z.string() });
export type DirEntry = z.infer<typeof DirEntrySchema>;
