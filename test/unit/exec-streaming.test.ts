// The pieces behind streamed output, fast: the job ring's positions, job_follow against the
// real agent in process (ring first, then live, a follower that fell behind, cancel leaves the
// job running, a job timeout), following a log file through rotation, and the MCP progress
// relay's bounds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RingBuffer } from "../../src/guest-agent/output-buffer.js";
import { followFile } from "../../src/core/follow-file.js";
import { ProgressRelay, MESSAGE_BYTES, type ProgressNotification } from "../../src/mcp/progress-relay.js";
import { outputEvent } from "../../src/contract/output-event.js";
import { startInProcessAgent } from "../support/in-process-agent.js";

test("a ring buffer reads by position and says where it really started once older bytes fell out", () => {
  const ring = new RingBuffer(8);
  ring.push(Buffer.from("abcdef"));
  assert.deepEqual(ring.read(2, 100), { data: Buffer.from("cdef"), from: 2 });
  ring.push(Buffer.from("ghijkl"));
  assert.equal(ring.total, 12);
  assert.equal(ring.oldest, 4);
  assert.deepEqual(ring.read(0, 100), { data: Buffer.from("efghijkl"), from: 4 });
  assert.deepEqual(ring.read(6, 3), { data: Buffer.from("ghi"), from: 6 });
  assert.deepEqual(ring.read(12, 3), { data: Buffer.alloc(0), from: 12 });
});

async function collect(stream: AsyncIterable<{ fd: 1 | 2; data: Buffer }>) {
  const out = { 1: "", 2: "" };
  for await (const chunk of stream) out[chunk.fd] += chunk.data.toString();
  return out;
}

test("job_follow sends what the ring holds, then what comes, then the job's end", async () => {
  await using guest = startInProcessAgent();
  const job = await guest.client.startJob({ shell: "echo early; sleep 0.3; echo late; echo oops >&2; exit 6" });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const follow = guest.client.followJob(job.jobId);
  const out = await collect(follow);
  const info = await follow.result;
  assert.deepEqual(out, { 1: "early\nlate\n", 2: "oops\n" });
  assert.deepEqual([info.running, info.exitCode, info.truncated], [false, 6, false]);
});

test("a follower that fell behind the ring skips what was dropped and says so", async () => {
  await using guest = startInProcessAgent();
  const job = await guest.client.startJob({ shell: "seq 1 20000; sleep 0.2; echo last", maxOutputBytes: 1024 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const follow = guest.client.followJob(job.jobId);
  const out = await collect(follow);
  assert.ok(out[1].endsWith("20000\nlast\n"));
  assert.ok(out[1].length < 2048);
  assert.equal((await follow.result).truncated, true);
});

test("cancelling a follow leaves the job running; a job's timeout kills it", async () => {
  await using guest = startInProcessAgent();
  const job = await guest.client.startJob({ shell: "while true; do echo x; sleep 0.05; done" });
  const controller = new AbortController();
  const follow = guest.client.followJob(job.jobId, { signal: controller.signal });
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(collect(follow), /cancel/i);
  assert.equal((await guest.client.pollJob(job.jobId)).running, true);
  await guest.client.killJob(job.jobId, "SIGKILL");
  const timed = await guest.client.startJob({ shell: "sleep 30", timeoutMs: 200 });
  const ended = guest.client.followJob(timed.jobId);
  await collect(ended);
  const info = await ended.result;
  assert.deepEqual([info.running, info.timedOut, info.signal], [false, true, "SIGKILL"]);
  await assert.rejects(collect(guest.client.followJob("job-999")), /NOT_FOUND|no job/);
});

test("following a log file picks up appends and starts over after an in-place rotation", async () => {
  const dir = mkdtempSync("/tmp/ais-follow-");
  const path = join(dir, "console.log");
  writeFileSync(path, "old\n");
  const controller = new AbortController();
  let seen = "";
  const following = followFile(path, (bytes) => void (seen += bytes.toString()), { signal: controller.signal, pollMs: 20 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 60));
    appendFileSync(path, "new 1\n");
    await new Promise((resolve) => setTimeout(resolve, 80));
    truncateSync(path, 0);
    appendFileSync(path, "after rotation\n");
    await new Promise((resolve) => setTimeout(resolve, 80));
  } finally {
    controller.abort();
    await following;
    rmSync(dir, { recursive: true });
  }
  assert.equal(seen, "new 1\nafter rotation\n");
});

test("the MCP progress relay coalesces output, caps each message and says what it left out", async () => {
  const sent: ProgressNotification[] = [];
  const relay = new ProgressRelay("tok", async (n) => void sent.push(n));
  for (let i = 0; i < 1000; i++) relay.take(outputEvent("stdout", Buffer.alloc(1024, "a")));
  relay.take(outputEvent("stderr", Buffer.from("warn\n")));
  relay.take({ type: "task_state", task: "t1", state: "running" });
  await relay.close();
  assert.equal(sent.length, 3);
  assert.deepEqual(sent.map((n) => n.params.progress), [1, 2, 3]);
  assert.equal(sent[0]!.params.message, '{"type":"task_state","task":"t1","state":"running"}');
  const output = sent[1]!.params.message;
  assert.ok(Buffer.byteLength(output) < MESSAGE_BYTES + 100);
  assert.match(output, new RegExp(`${1000 * 1024 - MESSAGE_BYTES} bytes of output not shown here`));
  assert.equal(sent[2]!.params.message, "[stderr] warn\n");
});

test("the relay never splits a character across the cap", async () => {
  const sent: ProgressNotification[] = [];
  const relay = new ProgressRelay(1, async (n) => void sent.push(n));
  relay.take(outputEvent("stdout", Buffer.from("é".repeat(MESSAGE_BYTES))));
  await relay.close();
  assert.ok(!sent[0]!.params.message.includes("\uFFFD"));
});
