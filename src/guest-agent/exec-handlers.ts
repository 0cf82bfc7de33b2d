// exec (buffered or streamed) and background jobs. A timeout, a cancel or a disconnect
// kills the command's whole process group; a non-zero exit is a result, not an error.
import { FlowWindow, MAX_EXEC_INLINE_BYTES, STREAM_WINDOW_BYTES, type RequestOf } from "../protocol/index.js";
import { DEFAULT_JOB_RING_BYTES } from "./job-registry.js";
import { CappedBuffer } from "./output-buffer.js";
import { execFailed, killGroup, resolveCommand, spawnGroup, spawnOutcome } from "./process-group.js";
import type { HandlerReply, RequestContext } from "./request-context.js";
import { WireError } from "./wire-error.js";

const DEFAULT_OUTPUT_BYTES = MAX_EXEC_INLINE_BYTES;

// Runs a command to completion and answers with exec_result.
export async function handleExec(request: RequestOf<"exec">, ctx: RequestContext): Promise<HandlerReply<"exec">> {
  const started = performance.now();
  const limit = request.maxOutputBytes ?? (request.stream ? Number.MAX_SAFE_INTEGER : DEFAULT_OUTPUT_BYTES);
  if (!request.stream && limit > MAX_EXEC_INLINE_BYTES) {
    throw new WireError("TOO_LARGE", `buffered output is limited to ${MAX_EXEC_INLINE_BYTES} bytes per stream: use stream: true`);
  }
  resolveCommand(request);
  const child = spawnGroup(request, ctx.agent.envFor(request.env));
  const kill = () => {
    killGroup(child.pid);
    // paused (flow-controlled) pipes must drain or "close" never comes
    child.stdout.resume();
    child.stderr.resume();
  };
  ctx.signal.addEventListener("abort", kill, { once: true });
  let timedOut = false;
  const timer = request.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), kill()), request.timeoutMs);
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("close", (code, signal) => resolve([code, signal])));
  try {
    const failure = await spawnOutcome(child);
    if (failure) throw execFailed(failure, request);
    const output = request.stream ? streamOutput(child, ctx, limit) : bufferOutput(child, limit);
    child.stdin.on("error", () => {}); // the command may exit without reading stdin
    child.stdin.end(request.stdin === undefined ? undefined : Buffer.from(request.stdin, "base64"));
    const [exitCode, signal] = await closed;
    return {
      id: ctx.id, type: "exec_result", exitCode, signal, timedOut, truncated: output.truncated(),
      ...output.texts(), durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    };
  } finally {
    if (timer) clearTimeout(timer);
    ctx.signal.removeEventListener("abort", kill);
  }
}

interface OutputSink {
  truncated(): boolean;
  texts(): { stdout?: string; stderr?: string };
}

function bufferOutput(child: ReturnType<typeof spawnGroup>, limit: number): OutputSink {
  const stdout = new CappedBuffer(limit);
  const stderr = new CappedBuffer(limit);
  child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  return { truncated: () => stdout.truncated || stderr.truncated, texts: () => ({ stdout: stdout.text(), stderr: stderr.text() }) };
}

// Sends output as data chunks (fd 1/2); pauses the pipes while the client's window is full.
function streamOutput(child: ReturnType<typeof spawnGroup>, ctx: RequestContext, limit: number): OutputSink {
  const window = new FlowWindow(STREAM_WINDOW_BYTES);
  const sent = [0, 0];
  let truncated = false;
  ctx.onStream({
    onAck: (bytes) => {
      window.acked(bytes);
      if (!window.full) {
        child.stdout.resume();
        child.stderr.resume();
      }
    },
  });
  const pump = (fd: 1 | 2) => (chunk: Buffer) => {
    const room = limit - sent[fd - 1]!;
    if (room <= 0) return void (truncated = true);
    const kept = chunk.length > room ? ((truncated = true), chunk.subarray(0, room)) : chunk;
    sent[fd - 1]! += kept.length;
    ctx.sendData(ctx.id, kept, fd);
    if (window.sent(kept.length)) {
      child.stdout.pause();
      child.stderr.pause();
    }
  };
  child.stdout.on("data", pump(1));
  child.stderr.on("data", pump(2));
  return { truncated: () => truncated, texts: () => ({}) };
}

// Starts a background job owned by the agent (it outlives this connection).
export async function handleJobStart(request: RequestOf<"job_start">, ctx: RequestContext): Promise<HandlerReply<"job_start">> {
  const { display } = resolveCommand(request);
  const child = spawnGroup(request, ctx.agent.envFor(request.env));
  const failure = await spawnOutcome(child);
  if (failure) throw execFailed(failure, request);
  child.stdin.end();
  return { id: ctx.id, type: "job", job: ctx.agent.jobs.add(child, display, request.maxOutputBytes ?? DEFAULT_JOB_RING_BYTES, request.timeoutMs) };
}

// The job's state plus the tail of its output.
export async function handleJobPoll(request: RequestOf<"job_poll">, ctx: RequestContext): Promise<HandlerReply<"job_poll">> {
  return { id: ctx.id, type: "job", job: ctx.agent.jobs.poll(request.jobId) };
}

// Signals the job's whole process group (default SIGTERM).
export async function handleJobKill(request: RequestOf<"job_kill">, ctx: RequestContext): Promise<HandlerReply<"job_kill">> {
  return { id: ctx.id, type: "job", job: ctx.agent.jobs.kill(request.jobId, request.signal ?? "SIGTERM") };
}

// Every job the agent remembers, running or recently finished, without output.
export async function handleJobList(_request: RequestOf<"job_list">, ctx: RequestContext): Promise<HandlerReply<"job_list">> {
  return { id: ctx.id, type: "jobs", jobs: ctx.agent.jobs.list() };
}
