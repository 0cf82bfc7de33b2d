// Compile-time proof, checked by `tsc --noEmit` (npm run typecheck), not run: the protocol's
// REQUEST_REPLIES table refuses a handler or a caller that disagrees with it. Each expected
// error below fails tsc as soon as the line it guards compiles.
import type { ReplyTo } from "../../src/protocol/index.js";
import { HANDLERS } from "../../src/guest-agent/handlers.js";
import type { Handler, HandlerTable } from "../../src/guest-agent/request-context.js";
import type { GuestLink } from "../../src/guest/guest-link.js";

// A handler table whose exec handler answers `done` instead of exec_result.
export const execAnsweringDone: HandlerTable = {
  ...HANDLERS,
  // @ts-expect-error exec must answer exec_result
  exec: async (_request, ctx) => ({ id: ctx.id, type: "done" as const }),
};

// Returning nothing stands for `done`, so only handlers whose reply is `done` may.
// @ts-expect-error file_read must answer file_content
export const readAnsweringNothing: Handler<"file_read"> = async () => undefined;
export const mkdirAnsweringNothing: Handler<"file_mkdir"> = async () => undefined;

// A handler of one type cannot stand in for another whose reply differs.
// @ts-expect-error job_list answers jobs, file_stat answers stat
export const statHandlerForJobs: Handler<"job_list"> = HANDLERS.file_stat;

// The client: the reply is typed by the request type, without a cast.
export async function execReplyIsTyped(link: GuestLink): Promise<number | null> {
  const reply = await link.request({ type: "exec", argv: ["true"] }, "exec", {});
  // @ts-expect-error an exec reply has no directory entries
  void reply.entries;
  return reply.exitCode;
}

export async function statReplyIsTyped(link: GuestLink): Promise<void> {
  // @ts-expect-error file_stat answers stat, not exec_result
  const reply: ReplyTo<"exec"> = await link.request({ type: "file_stat", path: "/" }, "stat", {});
  void reply;
}

// @ts-expect-error done is not the reply to exec
export const doneAsExecReply: ReplyTo<"exec"> = { id: 1, type: "done" };
