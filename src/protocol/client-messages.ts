// Messages the host client sends to the agent. Inbound to the agent, so every object is
// strict: an unknown field is an INVALID_REQUEST, never silently ignored.
import { z } from "zod";
import { Base64Schema, CommandFields, EnvSchema, IdSchema, PathSchema, PortSchema, RequestIdSchema, SignalSchema } from "./common-schemas.js";

const request = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ id: RequestIdSchema, type: z.literal(type), ...shape }).strict();

export const HelloRequestSchema = request("hello", {
  version: z.number().int().describe("protocol version the client speaks"),
  client: z.string().optional().describe("free-form client name for the agent's log"),
});
export const PingRequestSchema = request("ping", {});
export const ExecRequestSchema = request("exec", {
  ...CommandFields,
  stdin: Base64Schema.optional().describe("bytes written to stdin, which is then closed"),
  timeoutMs: z.number().int().positive().optional().describe("kill the process group after this long"),
  maxOutputBytes: z.number().int().positive().optional().describe("cap per stream; the rest is dropped and truncated=true"),
  stream: z.boolean().optional().describe("send output as data chunks (fd 1/2) instead of in the result"),
});
export const JobStartRequestSchema = request("job_start", {
  ...CommandFields,
  maxOutputBytes: z.number().int().positive().optional().describe("ring buffer size per stream"),
  timeoutMs: z.number().int().positive().optional().describe("kill the job's process group after this long (timedOut in its info)"),
});
export const JobPollRequestSchema = request("job_poll", { jobId: z.string() });
export const JobKillRequestSchema = request("job_kill", { jobId: z.string(), signal: SignalSchema.optional() });
export const JobListRequestSchema = request("job_list", {});
export const JobFollowRequestSchema = request("job_follow", { jobId: z.string() });
export const FileReadRequestSchema = request("file_read", {
  path: PathSchema,
  offset: z.number().int().nonnegative().optional(),
  limit: z.number().int().positive().optional().describe("bytes to read; at most MAX_INLINE_BYTES"),
});
export const FileWriteRequestSchema = request("file_write", {
  path: PathSchema,
  data: Base64Schema,
  mode: z.number().int().min(0).max(0o7777).optional(),
  append: z.boolean().optional(),
  createDirs: z.boolean().optional().describe("create missing parent directories"),
});
export const FileEditRequestSchema = request("file_edit", {
  path: PathSchema,
  oldText: z.string().min(1).describe("exact text to replace; must occur exactly once"),
  newText: z.string(),
});
export const FileListRequestSchema = request("file_list", { path: PathSchema });
export const FileStatRequestSchema = request("file_stat", { path: PathSchema });
export const FileMkdirRequestSchema = request("file_mkdir", {
  path: PathSchema,
  mode: z.number().int().min(0).max(0o7777).optional(),
  recursive: z.boolean().optional().describe("default true"),
});
export const FileRemoveRequestSchema = request("file_remove", { path: PathSchema, recursive: z.boolean().optional() });
export const FileMoveRequestSchema = request("file_move", {
  from: PathSchema.describe("file, directory or symlink to move (a symlink is moved, not followed)"),
  to: PathSchema.describe("its new path; its parent must exist"),
  overwrite: z.boolean().optional().describe("replace an existing `to` (default false: ALREADY_EXISTS)"),
});
export const FileUploadRequestSchema = request("file_upload", {
  path: PathSchema,
  mode: z.number().int().min(0).max(0o7777).optional(),
  maxBytes: z.number().int().positive().optional().describe("fail with TOO_LARGE past this many bytes"),
});
export const FileDownloadRequestSchema = request("file_download", {
  path: PathSchema,
  offset: z.number().int().nonnegative().optional(),
  limit: z.number().int().positive().optional(),
});
export const SetEnvRequestSchema = request("set_env", { vars: EnvSchema });
export const UnsetEnvRequestSchema = request("unset_env", { names: z.array(z.string()) });
/** Most bytes one `configure {entropy}` may carry (decoded). */
export const MAX_ENTROPY_BYTES = 4096;
/** Most bytes of CA certificates one `configure {trust}` may carry. */
export const MAX_TRUSTED_CA_BYTES = 1024 * 1024;
const ProxyUrl = z.string().max(2048).regex(/^https?:\/\/[^\s]+$/, "an http(s) URL");
export const GuestTrustSchema = z
  .object({
    caCertificates: z.string().max(MAX_TRUSTED_CA_BYTES).optional()
      .describe("PEM certificates the workspace trusts besides its own bundle (the host's extra CAs); empty removes what an earlier configure added"),
    proxy: z.object({ http: ProxyUrl.optional(), https: ProxyUrl.optional(), no: z.string().max(4096).regex(/^[^\s]*$/).optional() }).strict().optional()
      .describe("HTTP_PROXY, HTTPS_PROXY, NO_PROXY for every later command"),
  })
  .strict();
export type GuestTrust = z.infer<typeof GuestTrustSchema>;

export const ConfigureRequestSchema = request("configure", {
  hostname: z.string().min(1).max(64).optional().describe("UTS hostname of the workspace"),
  clockEpochMs: z.number().int().nonnegative().safe().optional()
    .describe("set the guest's wall clock to this many ms since the Unix epoch (a restored memory snapshot wakes at its save time)"),
  entropy: Base64Schema.max(Math.ceil(MAX_ENTROPY_BYTES / 3) * 4).optional()
    .describe(`random bytes (base64, at most ${MAX_ENTROPY_BYTES} decoded) mixed into the guest kernel's pool via /dev/urandom`),
  trust: GuestTrustSchema.optional().describe("CA certificates and proxy settings the operator wants workspaces to use"),
});
export const TunnelOpenRequestSchema = request("tunnel_open", {
  port: PortSchema.min(1),
  host: z.string().optional().describe("guest address to connect to; default 127.0.0.1"),
});
export const TunnelListenRequestSchema = request("tunnel_listen", {
  port: PortSchema.describe("guest loopback port to listen on; 0 picks a free one"),
});
export const ShutdownRequestSchema = request("shutdown", {});
/** Largest terminal size, rows or columns, a pty accepts (the kernel's winsize fields are 16-bit). */
export const MAX_PTY_DIMENSION = 4096;
const PtyDimension = z.number().int().min(1).max(MAX_PTY_DIMENSION);
export const PtyOpenRequestSchema = request("pty_open", {
  ...CommandFields,
  rows: PtyDimension.describe("terminal height in character cells"),
  cols: PtyDimension.describe("terminal width in character cells"),
});

/** Stream messages; the client sends them for uploads and tunnels. */
export const DataMessageSchema = z.object({ id: IdSchema, type: z.literal("data"), data: Base64Schema, fd: z.union([z.literal(1), z.literal(2)]).optional() }).strict();
export const EndMessageSchema = z.object({ id: IdSchema, type: z.literal("end") }).strict();
export const AckMessageSchema = z.object({ id: IdSchema, type: z.literal("ack"), bytes: z.number().int().positive() }).strict();
export const CancelMessageSchema = z.object({ id: IdSchema, type: z.literal("cancel") }).strict();
/** The user's terminal changed size: the agent resizes the pty of request id (the kernel then signals SIGWINCH). */
export const PtyResizeMessageSchema = z.object({ id: IdSchema, type: z.literal("pty_resize"), rows: PtyDimension, cols: PtyDimension }).strict();

export const REQUEST_SCHEMAS = [
  HelloRequestSchema, PingRequestSchema, ExecRequestSchema, JobStartRequestSchema, JobPollRequestSchema,
  JobKillRequestSchema, JobListRequestSchema, JobFollowRequestSchema, FileReadRequestSchema, FileWriteRequestSchema, FileEditRequestSchema,
  FileListRequestSchema, FileStatRequestSchema, FileMkdirRequestSchema, FileRemoveRequestSchema, FileMoveRequestSchema, FileUploadRequestSchema,
  FileDownloadRequestSchema, SetEnvRequestSchema, UnsetEnvRequestSchema, ConfigureRequestSchema, TunnelOpenRequestSchema,
  TunnelListenRequestSchema, ShutdownRequestSchema, PtyOpenRequestSchema,
] as const;

export const ClientMessageSchema = z.discriminatedUnion("type", [
  ...REQUEST_SCHEMAS, DataMessageSchema, EndMessageSchema, AckMessageSchema, CancelMessageSchema, PtyResizeMessageSchema,
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
export type ClientRequest = z.infer<(typeof REQUEST_SCHEMAS)[number]>;
export type RequestType = ClientRequest["type"];
export const REQUEST_TYPES: ReadonlySet<string> = new Set(REQUEST_SCHEMAS.map((s) => s.shape.type.value));

export type HelloRequest = z.infer<typeof HelloRequestSchema>;
export type ExecRequest = z.infer<typeof ExecRequestSchema>;
export type JobStartRequest = z.infer<typeof JobStartRequestSchema>;
export type FileReadRequest = z.infer<typeof FileReadRequestSchema>;
export type FileWriteRequest = z.infer<typeof FileWriteRequestSchema>;
export type FileUploadRequest = z.infer<typeof FileUploadRequestSchema>;
export type FileDownloadRequest = z.infer<typeof FileDownloadRequestSchema>;
export type DataMessage = z.infer<typeof DataMessageSchema>;
export type PtyOpenRequest = z.infer<typeof PtyOpenRequestSchema>;
/** A request of one type, for handlers. */
export type RequestOf<T extends RequestType> = Extract<ClientRequest, { type: T }>;
