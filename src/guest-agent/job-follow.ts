// job_follow: a background job's output as it comes — first what its ring buffers still
// hold, then every new byte — as data chunks (fd 1/2) under the client's flow window, and
// the job's info once it ended and everything was sent. A follower never slows the job:
// it reads the rings by position, so a follower that falls behind by more than a ring
// skips what was dropped (truncated in the final info). Cancel stops following, not the job.
import { FlowWindow, STREAM_WINDOW_BYTES, type RequestOf } from "../protocol/index.js";
import { describe, type Job } from "./job-registry.js";
import type { HandlerReply, RequestContext } from "./request-context.js";

const CHUNK_BYTES = 64 * 1024;

export async function handleJobFollow(request: RequestOf<"job_follow">, ctx: RequestContext): Promise<HandlerReply<"job_follow">> {
  const job = ctx.agent.jobs.find(request.jobId);
  const window = new FlowWindow(STREAM_WINDOW_BYTES);
  const streams = [
    { fd: 1 as const, ring: job.stdout, position: job.stdout.oldest },
    { fd: 2 as const, ring: job.stderr, position: job.stderr.oldest },
  ];
  let skipped = false;

  // Sends what is new on both streams while the window has room; true once all was sent.
  const pump = (): boolean => {
    for (const stream of streams) {
      while (!window.full && stream.position < stream.ring.total) {
        const { data, from } = stream.ring.read(stream.position, CHUNK_BYTES);
        if (from > stream.position) skipped = true;
        stream.position = from + data.length;
        ctx.sendData(ctx.id, data, stream.fd);
        window.sent(data.length);
      }
    }
    return streams.every((stream) => stream.position === stream.ring.total);
  };

  await new Promise<void>((resolve) => {
    const step = () => {
      if (ctx.signal.aborted) return finish();
      if (pump() && !job.running) finish();
    };
    const finish = () => {
      job.watchers.delete(step);
      resolve();
    };
    ctx.onStream({ onAck: (bytes) => (window.acked(bytes), step()) });
    ctx.signal.addEventListener("abort", finish, { once: true });
    job.watchers.add(step);
    step();
  });
  return { id: ctx.id, type: "job", job: followedInfo(job, skipped) };
}

function followedInfo(job: Job, skipped: boolean) {
  const info = describe(job, false);
  return skipped ? { ...info, truncated: true } : info;
}
