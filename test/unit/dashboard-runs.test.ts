// The dashboard's orchestration history and run files without a daemon: which file names a URL
// may reach (path traversal refused), opencode's transcript bounded whatever its size, runs
// listed again after a restart from the run index and their report.json, the report and patch
// served only with a session, and signing in with an MCP client's bearer token.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveRunFile, runFileKind } from "../../src/dashboard/run-files.js";
import { MAX_ENTRIES, MAX_ENTRY_CHARS, transcriptOf } from "../../src/orchestrator/opencode/transcript.js";
import type { RunSummary } from "../../src/dashboard/page-shapes.js";
import { get, signIn, started } from "../support/dashboard-client.js";

test("a run's files are report.json, report.md, <task>.patch and <task>.events.ndjson directly in its directory; anything else is refused", () => {
  assert.equal(resolveRunFile("/r/run", "report.json"), "/r/run/report.json");
  assert.equal(resolveRunFile("/r/run/", "alpha.patch"), "/r/run/alpha.patch");
  assert.equal(runFileKind("planner-1.events.ndjson"), "events");
  for (const hostile of ["../report.json", "../../etc/passwd", "a/../../x.patch", "/etc/passwd", "..patch", "...patch", ".x.patch", "alpha.txt", "report.json/..", "A.patch", "x/alpha.patch", "", ".."]) {
    assert.throws(() => resolveRunFile("/r/run", hostile), { code: "INVALID_INPUT" }, hostile);
  }
});

const event = (type: string, part: Record<string, unknown>) => JSON.stringify({ type, timestamp: 1, part }) + "\n";

test("a transcript shows text, tool calls and errors, and stays bounded however long the run was", () => {
  const small = transcriptOf({ head: event("text", { text: "Hel" }) + event("text", { text: "lo" }) + event("tool_use", { tool: "edit", state: { status: "completed", title: "a.txt", input: { filePath: "a.txt" } } }) + JSON.stringify({ type: "error", error: { name: "APIError", data: { message: "rate limited" } } }) + "\nnot json\n", tail: "", skippedBytes: 0 });
  assert.deepEqual(small.entries.map((e) => [e.kind, e.tool ?? "", e.text.split("\n")[0]]), [["text", "", "Hello"], ["tool", "edit", "a.txt"], ["error", "", "rate limited"]]);
  const many = Array.from({ length: 3 * MAX_ENTRIES }, (_, i) => event("tool_use", { tool: "bash", state: { status: "completed", title: `step ${i}` } })).join("");
  const long = transcriptOf({ head: many + event("text", { text: "x".repeat(10 * MAX_ENTRY_CHARS) }), tail: "", skippedBytes: 0 });
  assert.equal(long.entries.length, MAX_ENTRIES);
  assert.ok(long.entries.some((e) => e.kind === "omitted" && /entries left out/.test(e.text)));
  assert.equal(long.entries[0]!.text, "step 0", "the start is kept");
  assert.ok(long.entries.at(-1)!.text.length < MAX_ENTRY_CHARS + 100, "one entry's text is clipped");
  const cut = transcriptOf({ head: event("text", { text: "first" }) + '{"type":"te', tail: 'xt","part":{}}\n' + event("text", { text: "last" }), skippedBytes: 5000 });
  assert.deepEqual(cut.entries.map((e) => e.text), ["first", "5000 bytes of events not read", "last"]);
});

function resultsDir(root: string): string {
  const dir = join(root, "results");
  mkdirSync(dir);
  const report = {
    id: "abc", startedAt: new Date(Date.now() - 60_000).toISOString(), durationMs: 42_000, cancelled: false,
    tasks: [{ name: "alpha", status: "succeeded", reason: "", summary: "done", toolCalls: [{ tool: "edit", status: "completed", title: "a.txt" }], tokens: { input: 3, output: 4 }, costUsd: 0.5, durationMs: 9000, filesChanged: ["a.txt"], patch: "+a\n" }],
    merge: [{ task: "alpha", branch: "agentiso/g/alpha", repository: "/repo", ok: true, overlapsWith: [] }],
  };
  writeFileSync(join(dir, "report.json"), JSON.stringify(report));
  writeFileSync(join(dir, "alpha.patch"), "+a\n");
  writeFileSync(join(dir, "alpha.events.ndjson"), event("tool_use", { tool: "edit", state: { status: "completed", title: "a.txt" } }));
  return dir;
}

test("runs are listed again after a restart from the run index; report, patch, detail and transcript are served with a session only, and hostile ids are refused", async () => {
  const root = mkdtempSync(join(tmpdir(), "dsh-runs-"));
  const index = join(root, "dashboard-runs.json");
  try {
    const dir = resultsDir(root);
    const first = await started(undefined, { runIndexPath: index });
    const watcher = first.dashboard.watch("orchestrate", { resultsDir: dir })!;
    watcher.end({ durationMs: 1, result: { reportPath: join(dir, "report.json") } });
    await first.dashboard.close(); // waits for the run index to be written
    const { dashboard, port } = await started(undefined, { runIndexPath: index });
    try {
      await dashboard.restoreHistory();
      const cookie = await signIn(dashboard, port);
      const events = await new Promise<string>((resolve) => {
        let text = "";
        void import("node:http").then(({ request }) => request({ host: "127.0.0.1", port, path: "/api/events", headers: { cookie } }, (res) =>
          res.on("data", (c: Buffer) => {
            text += c.toString();
            if (!text.includes("event: metrics")) return;
            res.destroy();
            resolve(text);
          })).end());
      });
      const runs = JSON.parse(/event: orchestrations\ndata: (.*)\n/.exec(events)![1]!) as RunSummary[];
      assert.equal(runs.length, 1);
      const run = runs[0]!;
      assert.equal(run.fromDisk, true);
      assert.equal(run.tasks[0]!.branch, "agentiso/g/alpha");
      assert.equal(run.tasks[0]!.state, "succeeded");
      const report = await get(port, `/api/runs/${run.id}/files/report.json`, { cookie });
      assert.equal(report.status, 200);
      assert.equal((JSON.parse(report.body) as { id: string }).id, "abc");
      assert.equal((await get(port, `/api/runs/${run.id}/files/report.json`)).status, 401, "no session: no report");
      assert.equal((await get(port, `/api/runs/${run.id}/files/alpha.patch`, { cookie })).body, "+a\n");
      const detail = JSON.parse((await get(port, `/api/runs/${run.id}/tasks/alpha`, { cookie })).body) as { result: { patch: string; branch: string } };
      assert.deepEqual([detail.result.patch, detail.result.branch], ["+a\n", "agentiso/g/alpha"]);
      const transcript = JSON.parse((await get(port, `/api/runs/${run.id}/tasks/alpha/transcript`, { cookie })).body) as { result: { entries: Array<{ tool: string }> } };
      assert.equal(transcript.result.entries[0]!.tool, "edit");
      for (const path of [`/api/runs/${run.id}/files/..%2F..%2F..%2Fetc%2Fpasswd`, `/api/runs/..%2F..%2Fetc/files/report.json`, `/api/runs/${run.id}/tasks/..%2F..%2Fx/transcript`, `/api/runs/${run.id}/files/%2Fetc%2Fpasswd`, `/api/runs/${run.id}/files/%E0%A4%A`]) {
        assert.equal((await get(port, path, { cookie })).status, 400, path);
      }
      assert.equal((await get(port, "/api/runs/20990101000000-aaaaaa/files/report.json", { cookie })).status, 404);
      rmSync(join(dir, "alpha.patch"));
      symlinkSync("/etc/passwd", join(dir, "alpha.patch"));
      const planted = await get(port, `/api/runs/${run.id}/files/alpha.patch`, { cookie });
      assert.equal(planted.status, 400, "a symlink planted in the results directory is not followed");
      assert.doesNotMatch(planted.body, /root:/);
    } finally {
      await dashboard.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("an MCP client's bearer token allowed the dashboard signs a browser in (query or form), others do not", async () => {
  const token = "operator-token-0123456789";
  const { dashboard, port } = await started(undefined, { bearerSignIn: (t) => t === token });
  try {
    assert.equal((await get(port, `/login?token=${token}`)).status, 303);
    assert.equal((await get(port, "/login?token=another-token-0123456789")).status, 401);
    const form = await get(port, "/login");
    assert.equal(form.status, 200);
    assert.match(form.body, /<form method="post" action="\/login">/);
    const posted = await new Promise<number>((resolve, reject) => {
      void import("node:http").then(({ request }) => {
        const req = request({ host: "127.0.0.1", port, path: "/login", method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" } }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
        req.on("error", reject);
        req.end(`token=${token}`);
      });
    });
    assert.equal(posted, 303);
  } finally {
    await dashboard.close();
  }
});
