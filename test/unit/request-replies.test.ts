// The protocol's REQUEST_REPLIES table, the agent's handler table and the host client agree at
// run time: every request type has one reply entry and (but hello) one handler, each handler
// really ends its request with the reply the table names, and the client refuses any other.
// The compile-time half of this contract is request-replies-types.ts (checked by tsc).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { HANDLERS } from "../../src/guest-agent/handlers.js";
import { GuestClient } from "../../src/guest/guest-client.js";
import { createLinkedPair } from "../../src/guest/linked-pair.js";
import { AgentMessageSchema, FINAL_TYPES, REQUEST_REPLIES, REQUEST_TYPES, type RequestType } from "../../src/protocol/index.js";
import { startInProcessAgent, type InProcessAgent } from "../support/in-process-agent.js";
import { RawFrames, type RawMessage } from "../support/raw-frames.js";

let harness: InProcessAgent;
let dir: string;
let shutdowns = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "agentiso-request-replies-"));
  harness = startInProcessAgent({ setHostname: async () => {}, onShutdown: () => void (shutdowns += 1) });
});
after(async () => {
  await harness[Symbol.asyncDispose]();
  await rm(dir, { recursive: true, force: true });
});

test("every client request type has exactly one reply entry, and every entry is a request type", () => {
  assert.deepEqual(Object.keys(REQUEST_REPLIES).sort(), [...REQUEST_TYPES].sort());
});

test("every request type but hello (which the connection answers) has exactly one agent handler", () => {
  assert.deepEqual(Object.keys(HANDLERS).sort(), [...REQUEST_TYPES].filter((type) => type !== "hello").sort());
});

test("every reply in the table is an agent message, and the final types are exactly those replies and error", () => {
  const agentTypes = AgentMessageSchema.options.map((option) => option.shape.type.value as string);
  for (const [request, schema] of Object.entries(REQUEST_REPLIES)) {
    assert.ok(agentTypes.includes(schema.shape.type.value), `${request} answers ${schema.shape.type.value}, which is no agent message`);
    assert.ok(AgentMessageSchema.options.some((option) => option === schema), `${request}'s reply schema is not the agent union's own`);
  }
  assert.deepEqual([...FINAL_TYPES].sort(), ["done", "error", "exec_result", "file_content", "file_entries", "hello", "job", "jobs", "pong", "pty_result", "stat"]);
});

/** One working request per handled type, in an order where each finds what it needs. */
type Step = { type: Exclude<RequestType, "hello">; body: () => Record<string, unknown>; drive?: (frames: RawFrames, id: number) => void };

test("each handler, driven over the in-process agent, ends its request with the reply the table pairs with its type", async (t) => {
  const server = createServer((socket) => socket.end()); // tunnel_open: the guest-side peer hangs up at once
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const file = join(dir, "a.txt");
  let jobId = "";
  const steps: Step[] = [
    { type: "ping", body: () => ({}) },
    { type: "exec", body: () => ({ argv: ["true"] }) },
    { type: "job_start", body: () => ({ argv: ["sleep", "30"] }) },
    { type: "job_poll", body: () => ({ jobId }) },
    { type: "job_kill", body: () => ({ jobId, signal: "SIGKILL" }) },
    { type: "job_list", body: () => ({}) },
    { type: "job_follow", body: () => ({ jobId }) },
    { type: "file_write", body: () => ({ path: file, data: Buffer.from("hello").toString("base64") }) },
    { type: "file_read", body: () => ({ path: file }) },
    { type: "file_edit", body: () => ({ path: file, oldText: "hello", newText: "bye" }) },
    { type: "file_list", body: () => ({ path: dir }) },
    { type: "file_stat", body: () => ({ path: file }) },
    { type: "file_mkdir", body: () => ({ path: join(dir, "sub") }) },
    { type: "file_move", body: () => ({ from: join(dir, "sub"), to: join(dir, "sub2") }) },
    { type: "file_remove", body: () => ({ path: join(dir, "sub2") }) },
    { type: "file_upload", body: () => ({ path: join(dir, "up.txt") }), drive: (frames, id) => frames.send({ id, type: "end" }) },
    { type: "file_download", body: () => ({ path: file }) },
    { type: "set_env", body: () => ({ vars: { REPLY_TABLE: "1" } }) },
    { type: "unset_env", body: () => ({ names: ["REPLY_TABLE"] }) },
    { type: "configure", body: () => ({ hostname: "reply-table" }) },
    { type: "tunnel_open", body: () => ({ port: (server.address() as AddressInfo).port }) },
    // tunnel_listen serves until cancelled, so its end is always CANCELLED: checked below apart
    { type: "tunnel_listen", body: () => ({ port: 0 }), drive: (frames, id) => void frames.next((m) => m.id === id && m.type === "tunnel_ready").then(() => frames.send({ id, type: "cancel" })) },
    { type: "pty_open", body: () => ({ argv: ["true"], rows: 24, cols: 80 }) },
    { type: "shutdown", body: () => ({}) },
  ];
  assert.deepEqual(steps.map((step) => step.type).sort(), Object.keys(HANDLERS).sort(), "one step per handled request type");

  const frames = new RawFrames(harness.rawConnection());
  t.after(() => frames.transport.destroy());
  const hello = await frames.hello();
  assert.deepEqual(REQUEST_REPLIES.hello.parse(hello), hello);
  let id = 10;
  for (const step of steps) {
    id += 1;
    frames.send({ id, type: step.type, ...step.body() });
    step.drive?.(frames, id);
    const reply = await frames.next((m: RawMessage) => m.id === id && FINAL_TYPES.has(m.type));
    if (step.type === "tunnel_listen") {
      assert.deepEqual([reply.type, reply.code], ["error", "CANCELLED"]);
      continue;
    }
    const parsed = REQUEST_REPLIES[step.type].safeParse(reply);
    assert.ok(parsed.success, `${step.type} answered ${JSON.stringify(reply).slice(0, 300)}`);
    assert.deepEqual(parsed.data, reply, `${step.type}'s reply carries no field its schema lacks`);
    if (step.type === "job_start") jobId = (reply as RawMessage & { job: { jobId: string } }).job.jobId;
  }
  assert.equal(shutdowns, 1);
});

test("the client fails a call with INTERNAL when the agent ends it with a reply of another type", async (t) => {
  // a fake agent that greets properly, then answers every request with `done`
  const [clientEnd, agentEnd] = createLinkedPair();
  const agent = new RawFrames(agentEnd);
  void (async () => {
    for (;;) {
      const message = await agent.next().catch(() => undefined);
      if (!message) return;
      if (message.type === "hello") agent.send({ id: message.id, type: "hello", version: 1, agent: "fake", pid: 1, node: "v0" });
      else agent.send({ id: message.id, type: "done" });
    }
  })();
  const client = new GuestClient({ connect: async () => clientEnd });
  t.after(() => client.close());
  await client.mkdir("/anywhere"); // done is mkdir's reply
  await assert.rejects(client.exec({ argv: ["true"] }), (err) => isAgentisoError(err, "INTERNAL") && /exec_result/.test(err.message));
  await assert.rejects(client.ping(), (err) => isAgentisoError(err, "INTERNAL") && /pong/.test(err.message));
  await assert.rejects(client.stat("/"), (err) => isAgentisoError(err, "INTERNAL"));
});
