// Which reply ends each request: the one table the agent's handlers and the host client are
// typed by, so a handler cannot answer exec with `done` and a caller never re-declares a reply.
import type { z } from "zod";
import {
  type AgentMessage, DoneSchema, ExecResultSchema, FileContentSchema, FileEntriesSchema, HelloReplySchema, JobReplySchema, JobsReplySchema,
  PongSchema, PtyResultSchema, StatReplySchema,
} from "./agent-messages.js";
import type { RequestType } from "./client-messages.js";

/** The final reply schema of every request type (any request may also end in `error`). */
export const REQUEST_REPLIES = {
  hello: HelloReplySchema,
  ping: PongSchema,
  exec: ExecResultSchema,
  job_start: JobReplySchema,
  job_poll: JobReplySchema,
  job_kill: JobReplySchema,
  job_list: JobsReplySchema,
  job_follow: JobReplySchema,
  file_read: FileContentSchema,
  file_write: DoneSchema,
  file_edit: DoneSchema,
  file_list: FileEntriesSchema,
  file_stat: StatReplySchema,
  file_mkdir: DoneSchema,
  file_remove: DoneSchema,
  file_move: DoneSchema,
  file_upload: DoneSchema,
  file_download: DoneSchema,
  set_env: DoneSchema,
  unset_env: DoneSchema,
  configure: DoneSchema,
  tunnel_open: DoneSchema,
  tunnel_listen: DoneSchema,
  shutdown: DoneSchema,
  pty_open: PtyResultSchema,
} as const satisfies { readonly [T in RequestType]: z.ZodObject<{ id: z.ZodNumber; type: z.ZodLiteral<string> }> };

/** The final (non-error) reply to a request of type T. */
export type ReplyTo<T extends RequestType> = z.infer<(typeof REQUEST_REPLIES)[T]>;

// The `type` of the reply that ends a request of this type.
export function replyTypeOf<T extends RequestType>(requestType: T): ReplyTo<T>["type"] {
  return REQUEST_REPLIES[requestType].shape.type.value;
}

// True when message is the reply that ends a request of this type: the one runtime check behind every typed request.
export function isReplyTo<T extends RequestType>(requestType: T, message: AgentMessage): message is ReplyTo<T> {
  return message.type === replyTypeOf(requestType);
}

/** Types after which the request id is finished and may be reused: every reply, and error. */
export const FINAL_TYPES: ReadonlySet<string> = new Set([
  ...Object.values(REQUEST_REPLIES).map((schema) => schema.shape.type.value),
  "error",
]);
