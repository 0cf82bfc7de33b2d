// Stalled tasks and provider throttling in the report: the contract accepts them, report.md says them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { OrchestrationReportSchema } from "../../src/contract/report-schema.js";
import { totalsOf, type OrchestrationReport } from "../../src/orchestrator/orchestrator.js";
import { writeReport } from "../../src/orchestrator/report-writer.js";
import { errorResult } from "../../src/orchestrator/task-runner.js";

test("a stalled task and throttled counts pass the report contract and show in report.md", async () => {
  const stalled = { ...errorResult({ name: "hung" }, "w1", "", 1000), status: "stalled" as const, reason: "opencode printed no event for 15 s and was stopped (after 1 steps)", throttled: 0 };
  const rode = { ...errorResult({ name: "busy" }, "w2", "", 1000), status: "succeeded" as const, reason: "", throttled: 3 };
  const tasks = [stalled, rode];
  const report: OrchestrationReport = {
    id: "abc123",
    startedAt: new Date().toISOString(),
    durationMs: 1,
    cancelled: false,
    golden: { workspace: "g", snapshot: "golden", commit: "0".repeat(40) },
    model: { provider: "stub", model: "m", keyMode: "proxy" },
    tasks,
    totals: totalsOf(tasks),
    merge: [],
  };
  assert.equal(report.totals.throttled, 3);
  assert.equal(report.totals.failed, 1, "stalled is not a success");
  OrchestrationReportSchema.parse(report);
  const dir = mkdtempSync("/tmp/ais-report-progress-");
  try {
    await writeReport(dir, report);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(md, /\| hung \| stalled \|/);
    assert.match(md, /throttled 3 request\(s\).*busy 3/);
    const json = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as { tasks: Array<{ throttled: number }> };
    assert.deepEqual(json.tasks.map((t) => t.throttled), [0, 3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
