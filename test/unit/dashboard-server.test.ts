// The dashboard's listener without a daemon: sign-in by one-time URL, refusal without it,
// the Host check, the action header, the event stream's bound for a client that never reads,
// and the orchestration board built from progress events.
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { get, signIn, started } from "../support/dashboard-client.js";
import { EventStream, MAX_BUFFERED_BYTES } from "../../src/dashboard/event-stream.js";
import { OrchestrationBoard } from "../../src/dashboard/orchestration-board.js";
import { DashboardAuth, LOGIN_TTL_MS } from "../../src/dashboard/dashboard-auth.js";

test("the page and the API answer 401 without a session; a login URL signs in once and only once", async () => {
  const { dashboard, port } = await started();
  try {
    assert.equal((await get(port, "/")).status, 401);
    assert.equal((await get(port, "/api/events")).status, 401);
    assert.equal((await get(port, "/login?token=guessed")).status, 401);
    const url = new URL(dashboard.loginUrl()!);
    const first = await get(port, url.pathname + url.search);
    assert.equal(first.status, 303);
    assert.equal((await get(port, url.pathname + url.search)).status, 401, "a used token is refused");
    const cookie = String(first.headers["set-cookie"]).split(";")[0]!;
    const page = await get(port, "/", { cookie });
    assert.equal(page.status, 200);
    assert.equal(page.body, "<p>page</p>");
    assert.match(String(page.headers["content-security-policy"]), /script-src 'self'/);
    assert.equal((await get(port, "/", { cookie: "agentiso_dashboard=forged" })).status, 401);
  } finally {
    await dashboard.close();
  }
});

test("a login token expires after five minutes", () => {
  let now = 1_000_000;
  const auth = new DashboardAuth(() => now);
  const token = auth.mintLogin();
  now += LOGIN_TTL_MS + 1;
  assert.equal(auth.redeem(token), undefined);
});

test("a request naming another host (DNS rebinding) is refused; actions need the dashboard header", async () => {
  const calls: unknown[] = [];
  const { dashboard, port } = await started((call) => (calls.push(call), Promise.resolve(null)));
  try {
    const cookie = await signIn(dashboard, port);
    assert.equal((await get(port, "/", { cookie, host: `evil.example:${port}` })).status, 421);
    assert.equal((await get(port, "/api/workspaces/alpha/destroy", { cookie }, "POST")).status, 404, "no header: no action (a cross-site form cannot send it)");
    assert.equal(calls.length, 0);
    const done = await get(port, "/api/workspaces/alpha/destroy", { cookie, "x-agentiso-dashboard": "1" }, "POST");
    assert.equal(done.status, 200);
    assert.deepEqual((calls[0] as { name: string; input: unknown }).name, "workspace_destroy");
  } finally {
    await dashboard.close();
  }
});

test("the event stream sends every topic at once, then each change; the body is JSON text (never HTML)", async () => {
  const { dashboard, port, rows } = await started();
  try {
    const cookie = await signIn(dashboard, port);
    const seen: string[] = [];
    const req = request({ host: "127.0.0.1", port, path: "/api/events", headers: { cookie } });
    const got = new Promise<void>((resolve) =>
      req.on("response", (res) => {
        res.on("data", (chunk: Buffer) => {
          seen.push(chunk.toString());
          if (seen.join("").includes("<script>")) resolve();
        });
      }),
    );
    req.end();
    await new Promise((resolve) => setTimeout(resolve, 200));
    rows.push({ ...rows[0]!, name: "<script>alert(1)</script>" });
    dashboard.workspacesChanged();
    await got;
    const text = seen.join("");
    for (const topic of ["workspaces", "orchestrations", "metrics"]) assert.match(text, new RegExp(`event: ${topic}\n`));
    req.destroy();
  } finally {
    await dashboard.close();
  }
});

test("a client that never reads holds at most one socket buffer: changes are coalesced, not queued", async () => {
  const big = "x".repeat(64 * 1024);
  let version = 0;
  const stream = new EventStream({ state: () => ({ version, big }) });
  const written: number[] = [];
  // a response whose socket never drains
  const res = {
    writableLength: 0,
    destroyed: false,
    writeHead() {},
    write(chunk: string) {
      this.writableLength += chunk.length;
      written.push(chunk.length);
      return false;
    },
    on() {},
    end() {},
  };
  stream.attach(res as never);
  for (let i = 0; i < 200; i++) {
    version = i;
    stream.changed("state");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(res.writableLength <= MAX_BUFFERED_BYTES + 70 * 1024, `buffered ${res.writableLength} bytes`);
  assert.ok(written.length < 10, `${written.length} frames written to a stalled client`);
  stream.close();
});

test("the board follows an orchestration's progress events and keeps each task's diff", () => {
  let now = 0;
  const board = new OrchestrationBoard(() => {}, () => now);
  const run = board.begin();
  run.progress({ type: "task_state", task: "a", state: "queued" });
  now = 1000;
  run.progress({ type: "task_state", task: "a", state: "running", worker: "w-a" });
  assert.equal(board.summary()[0]!.tasks[0]!.state, "running");
  assert.equal(board.summary()[0]!.tasks[0]!.last, "running (w-a)");
  run.progress({ type: "task_state", task: "a", state: "running", last: "edit completed: a.txt" });
  assert.equal(board.summary()[0]!.tasks[0]!.last, "edit completed: a.txt", "opencode's latest event shows while it runs");
  assert.deepEqual(board.summary()[0]!.tasks[0]!.timeline.map((e) => e.text), ["queued", "running (w-a)", "edit completed: a.txt"]);
  now = 5000;
  run.progress({ type: "task_done", task: "a", result: { status: "succeeded", reason: "", summary: "ok", toolCalls: [{ tool: "edit", status: "completed", title: "a.txt" }], tokens: { input: 10, output: 5 }, costUsd: 0.01, patch: "+<img onerror=x>", filesChanged: ["a.txt"] } });
  const [summary] = board.summary();
  assert.equal(summary!.tasks[0]!.state, "succeeded");
  assert.equal(summary!.tasks[0]!.tokens, 15);
  assert.equal(summary!.tasks[0]!.endedMs! - summary!.tasks[0]!.startedMs, 4000, "elapsed counts from when the task left the queue");
  assert.equal(board.detail(summary!.id, "a")!.patch, "+<img onerror=x>");
  run.end({ result: { reportPath: "/r/report.json" } });
  assert.equal(board.summary()[0]!.state, "done");
});
