// The report of a run whose daemon died: built from the progress a front door saw.
import { test } from "node:test";
import assert from "node:assert/strict";
import { partialReport } from "../../src/orchestrator/partial-report.js";
import { errorResult } from "../../src/orchestrator/task-runner.js";

test("a partial report keeps finished tasks' results and fails the others with the reason and their worker", () => {
  const done = { ...errorResult({ name: "a" }, "w-a", "", 10), status: "succeeded" as const, costUsd: 0.5 };
  const report = partialReport(
    { golden: "golden-1", tasks: new Map([["a", { worker: "w-a", result: done }], ["b", { worker: "w-b" }], ["c", {}]]) },
    "the daemon went away",
  );
  assert.equal(report.cancelled, true);
  assert.equal(report.golden.workspace, "golden-1");
  assert.deepEqual(report.tasks.map((t) => [t.name, t.status, t.reason, t.worker]), [
    ["a", "succeeded", "", "w-a"],
    ["b", "error", "ERROR: the daemon went away", "w-b"],
    ["c", "error", "ERROR: the daemon went away", undefined],
  ]);
  assert.deepEqual({ succeeded: report.totals.succeeded, failed: report.totals.failed, costUsd: report.totals.costUsd }, { succeeded: 1, failed: 2, costUsd: 0.5 });
  assert.equal(report.model.keyMode, "");
});
