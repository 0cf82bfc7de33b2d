// Output as it comes: an exec whose caller streams progress gets each chunk as an output
// event (awaited, so a slow reader slows the command through the guest's flow window
// instead of filling the daemon's memory), and an exec with backgroundAfterMs runs as a
// background job that the call follows until it ends or the time is up.
import { AgentisoError } from "../core/errors.js";
import type { ExecStreamResult, OutputChunk } from "../guest/client-types.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { Command } from "../guest/client-types.js";
import { outputEvent } from "../contract/output-event.js";
import type { ExecResultSchema } from "../contract/result-schemas.js";
import type { z } from "zod";
import type { OperationContext } from "./operation.js";

type ExecResult = z.input<typeof ExecResultSchema>;

export interface StreamedExec {
  command: Command;
  stdin?: string;
  timeoutMs: number;
  /** Cap per stream on what the result holds. */
  maxOutputBytes: number;
  /** false: output only as progress events, none in the result. */
  outputInResult: boolean;
}

// Runs the command with its output streamed to ctx.progress as it comes.
export async function execStreamed(ctx: OperationContext, guest: GuestClient, exec: StreamedExec): Promise<ExecResult> {
  const collected = new CollectedOutput(exec.outputInResult ? exec.maxOutputBytes : 0);
  const stream = guest.execStream(
    { ...exec.command, ...(exec.stdin !== undefined && { stdin: exec.stdin }), commandTimeoutMs: exec.timeoutMs },
    { signal: ctx.signal },
  );
  for await (const chunk of stream) await collected.take(ctx, chunk);
  const result: ExecStreamResult = await stream.result;
  return { ...result, ...collected.texts(), truncated: result.truncated || collected.truncated };
}

// Starts the command as a background job and follows it for up to backgroundAfterMs: a
// command that ends by then is an ordinary result; one that runs on is left running and
// the result carries its jobId. A caller that goes away before then stops the command,
// as with any exec.
export async function execBackgroundable(ctx: OperationContext, guest: GuestClient, exec: StreamedExec & { backgroundAfterMs: number }): Promise<ExecResult> {
  if (exec.stdin !== undefined) throw new AgentisoError("INVALID_INPUT", "stdin cannot be given with backgroundAfterMs (a background job reads no stdin)");
  const started = performance.now();
  const job = await guest.startJob({ ...exec.command, maxOutputBytes: exec.maxOutputBytes, timeoutMs: exec.timeoutMs }, { signal: ctx.signal });
  const followed = new AbortController();
  const timer = setTimeout(() => followed.abort(), exec.backgroundAfterMs);
  const collected = new CollectedOutput(exec.outputInResult ? exec.maxOutputBytes : 0);
  const durationMs = () => Math.round(performance.now() - started);
  try {
    const follow = guest.followJob(job.jobId, { signal: AbortSignal.any([followed.signal, ctx.signal]) });
    for await (const chunk of follow) await collected.take(ctx, chunk);
    const info = await follow.result;
    return {
      exitCode: info.exitCode, signal: info.signal, timedOut: info.timedOut ?? false, truncated: collected.truncated || info.truncated,
      ...collected.texts(), durationMs: durationMs(),
    };
  } catch (err) {
    if (ctx.signal.aborted) {
      await guest.killJob(job.jobId, "SIGKILL").catch(() => undefined);
      throw err;
    }
    if (!followed.signal.aborted) throw err;
    return { exitCode: null, signal: null, timedOut: false, truncated: collected.truncated, ...collected.texts(), durationMs: durationMs(), jobId: job.jobId };
  } finally {
    clearTimeout(timer);
  }
}

// Follows a job's output to ctx.progress until it ends or waitMs passed; the job runs on either way.
export async function followJobOutput(ctx: OperationContext, guest: GuestClient, jobId: string, waitMs: number | undefined): Promise<void> {
  const waited = new AbortController();
  const timer = waitMs === undefined ? undefined : setTimeout(() => waited.abort(), waitMs);
  try {
    const follow = guest.followJob(jobId, { signal: AbortSignal.any([waited.signal, ctx.signal]) });
    for await (const chunk of follow) await ctx.progress?.(outputEvent(chunk.fd === 1 ? "stdout" : "stderr", chunk.data));
    await follow.result;
  } catch (err) {
    if (!waited.signal.aborted || ctx.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The first maxBytes of each stream for the result, every chunk passed on as progress. */
class CollectedOutput {
  private readonly kept = { 1: [] as Buffer[], 2: [] as Buffer[] };
  private readonly sizes = { 1: 0, 2: 0 };
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  async take(ctx: OperationContext, chunk: OutputChunk): Promise<void> {
    const room = this.maxBytes - this.sizes[chunk.fd];
    if (room > 0) {
      const kept = chunk.data.subarray(0, room);
      this.kept[chunk.fd].push(kept);
      this.sizes[chunk.fd] += kept.length;
    }
    if (chunk.data.length > room && this.maxBytes > 0) this.truncated = true;
    await ctx.progress?.(outputEvent(chunk.fd === 1 ? "stdout" : "stderr", chunk.data));
  }

  texts(): { stdout: string; stderr: string } {
    return { stdout: Buffer.concat(this.kept[1]).toString("utf8"), stderr: Buffer.concat(this.kept[2]).toString("utf8") };
  }
}
