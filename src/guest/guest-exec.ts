// exec over a GuestLink: the request built from ExecOptions, the client deadline that
// follows from the command's own timeout, and the buffered or streamed result.
import type { ExecOptions, ExecResult, ExecStream, CallOptions, OutputChunk } from "./client-types.js";
import type { DefaultDeadline, GuestLink } from "./guest-link.js";
import type { RequestBody } from "./request-stream.js";

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
  const result = started.then(async (stream) => {
    const { id: _id, type: _type, stdout: _stdout, stderr: _stderr, ...rest } = await stream.result;
    return rest;
  });
  result.catch(() => {});
  // a consumer that stops early (a capped reader past its cap) cancels the command in the guest
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
