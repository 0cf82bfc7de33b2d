// Messages the agent sends to the host client: final replies, non-final stream events,
// and errors. Every one carries the id of the request or stream it belongs to.
import { z } from "zod";
import { DirEntrySchema, FileStatSchema, IdSchema, JobInfoSchema, PortSchema } from "./common-schemas.js";
import { AckMessageSchema, DataMessageSchema, EndMessageSchema } from "./client-messages.js";
import { WIRE_ERROR_CODES } from "./error-codes.js";

const reply = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.object({ id: IdSchema, type: z.literal(type), ...shape });

export const HelloReplySchema = reply("hello", {
  version: z.number().int(),
  agent: z.string().describe("agent name and build"),
  pid: z.number().int(),
  node: z.string().describe("Node.js version running the agent"),
});
export const PongSchema = reply("pong", {});
export const ExecResultSchema = reply("exec_result", {
  exitCode: z.number().int().nullable().describe("null when killed by a signal"),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  truncated: z.boolean().describe("output past maxOutputBytes was dropped"),
  stdout: z.string().optional().describe("UTF-8 output (buffered mode only)"),
  stderr: z.string().optional(),
  durationMs: z.number(),
});
export const JobReplySchema = reply("job", { job: JobInfoSchema });
export const JobsReplySchema = reply("jobs", { jobs: z.array(JobInfoSchema) });
export const FileContentSchema = reply("file_content", {
  data: z.string().describe("base64"),
  sizeBytes: z.number().describe("size of the whole file"),
  eof: z.boolean().describe("the read reached the end of the file"),
});
export const FileEntriesSchema = reply("file_entries", { entries: z.array(DirEntrySchema) });
export const StatReplySchema = reply("stat", { stat: FileStatSchema });
export const DoneSchema = reply("done", { bytes: z.number().optional().describe("bytes written or transferred") });
export const TunnelReadySchema = reply("tunnel_ready", { port: PortSchema });
export const TunnelAcceptSchema = reply("tunnel_accept", {
  listenId: IdSchema.describe("id of the tunnel_listen request"),
  remotePort: z.number().int().describe("source port of the guest connection"),
});
export const PtyReadySchema = reply("pty_ready", {});
export const PtyResultSchema = reply("pty_result", {
  exitCode: z.number().int().nullable().describe("the command's exit code; 128+N when a signal N killed it"),
  signal: z.string().max(32).nullable().describe("set when the pty's own helper was killed by a signal"),
  durationMs: z.number(),
});
export const ErrorMessageSchema = reply("error", {
  code: z.enum(WIRE_ERROR_CODES),
  message: z.string(),
});

export const AgentMessageSchema = z.discriminatedUnion("type", [
  HelloReplySchema, PongSchema, ExecResultSchema, JobReplySchema, JobsReplySchema, FileContentSchema, FileEntriesSchema,
  StatReplySchema, DoneSchema, TunnelReadySchema, TunnelAcceptSchema, PtyReadySchema, PtyResultSchema, ErrorMessageSchema,
  DataMessageSchema, EndMessageSchema, AckMessageSchema,
]);
export type AgentMessage = z.infer<typeof AgentMessageSchema>;
export type HelloReply = z.infer<typeof HelloReplySchema>;
export type ExecResult = z.infer<typeof ExecResultSchema>;
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;
export type TunnelAccept = z.infer<typeof TunnelAcceptSchema>;
export type PtyResult = z.infer<typeof PtyResultSchema>;

