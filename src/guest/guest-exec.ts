// exec over a GuestLink: the request built from ExecOptions, the client deadline that
// follows from the command's own timeout, and the buffered or streamed result.
import type { JobInfo, ReplyTo } from "../protocol/index.js";
import type { ExecOptions, ExecResult, ExecStream, CallOptions, OutputChunk, OutputStream } from "./client-types.js";
import type { DefaultDeadline, GuestLink } from "./guest-link.js";
import type { RequestBody, RequestStream } from "./request-stream.js";

/** Time beyond the command's own timeout the client waits for its result (the agent kills it first). */
const CONNECT_MARGIN_MS = 10_000;

// Runs a command to completion; a non-zero exit is a result, not an error.
export async function runExec(link: GuestLink, command: ExecOptions, options: CallOptions): Promise<ExecResult> {
  const { id: _id, type: _type, stdout, stderr, ...result } = await link.request(execBody(command, false), "exec", options, execDeadline(command));
  return { ...result, stdout: stdout ?? "", stderr: stderr ?? "" };
}

// Runs a command and streams its output chunks as they come (bounded by flow control);
// breaking out of the iteration cancels the command.
export function runExecStream(link: GuestLink, command: ExecOptions, options: CallOptions): ExecStream {
  const started = link.start(execBody(command, true), "exec", options, execDeadline(command));
  return outputStream(started, ({ id: _id, type: _type, stdout: _stdout, stderr: _stderr, ...rest }) => rest);
}

// Follows a background job's output (what its rings hold, then what comes) until it ends;
// breaking out of the iteration stops following, the job runs on.
export function runJobFollow(link: GuestLink, jobId: string, options: CallOptions): OutputStream<JobInfo> {
  const started = link.start({ type: "job_follow", jobId }, "job_follow", options, null);
  return outputStream(started, (reply) => reply.job);
}

// Output chunks of a started streamed request, then its result (mapped from the final reply).
function outputStream<T extends "exec" | "job_follow", R>(started: Promise<RequestStream<T>>, toResult: (reply: ReplyTo<T>) => R): OutputStream<R> {
  const result = started.then(async (stream) => toResult(await stream.result));
  result.catch(() => {});
  // a consumer that stops early (a capped reader past its cap) cancels the request in the guest
  async function* chunks(): AsyncGenerator<OutputChunk> {
    const stream = await started;
    try {
      for await (const event of stream.events()) {
        if (event.type === "data") yield { fd: event.fd ?? 1, data: Buffer.from(event.data, "base64") };
      }
    } finally {
      stream.abort();
    }
  }
  return { result, [Symbol.asyncIterator]: chunks };
}

function execBody(command: ExecOptions, stream: boolean): RequestBody<"exec"> & { type: "exec" } {
  const { stdin, commandTimeoutMs, ...rest } = command;
  return {
    type: "exec", ...rest, stream,
    ...(stdin === undefined ? {} : { stdin: Buffer.from(stdin).toString("base64") }),
    ...(commandTimeoutMs === undefined ? {} : { timeoutMs: commandTimeoutMs }),
  };
}

// Exec has no client deadline of its own unless the command has one (then: that + a margin).
function execDeadline(command: ExecOptions): DefaultDeadline {
  return command.commandTimeoutMs === undefined ? null : command.commandTimeoutMs + CONNECT_MARGIN_MS;
}
