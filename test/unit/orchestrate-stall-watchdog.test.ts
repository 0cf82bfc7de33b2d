// The stall watchdog: events keep a run alive, silence for stall_timeout stops it, and the
// judged status is `stalled`, distinct from `timeout`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FIRST_EVENT_GRACE_MS, StallWatchdog, describeMs } from "../../src/orchestrator/stall-watchdog.js";
import { judgeOpencodeRun } from "../../src/orchestrator/opencode/run-outcome.js";
import { OpencodeEventParser } from "../../src/orchestrator/opencode/parse-events.js";
import { parsePlan, stallTimeoutMs } from "../../src/orchestrator/plan.js";

describe("stall watchdog", () => {
  test("events reset the timer; only stall_timeout of silence aborts, with a reason naming it", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    using watchdog = new StallWatchdog(15_000);
    for (let i = 0; i < 10; i++) {
      t.mock.timers.tick(14_000);
      assert.equal(watchdog.stalled, false, `alive after ${i + 1} events 14 s apart`);
      watchdog.touch();
    }
    t.mock.timers.tick(14_999);
    assert.equal(watchdog.stalled, false);
    t.mock.timers.tick(1);
    assert.equal(watchdog.stalled, true);
    assert.match(String((watchdog.signal.reason as Error).message), /no event for 15 s/);
    watchdog.touch();
    assert.equal(watchdog.stalled, true, "a late event does not revive a stopped run");
  });

  test("opencode gets at least a minute to print its first event: a slow start is not a stall", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    using watchdog = new StallWatchdog(15_000);
    t.mock.timers.tick(FIRST_EVENT_GRACE_MS - 1);
    assert.equal(watchdog.stalled, false, "still starting");
    t.mock.timers.tick(1);
    assert.equal(watchdog.stalled, true);
    assert.equal(watchdog.silenceMs, FIRST_EVENT_GRACE_MS);
    assert.match(String((watchdog.signal.reason as Error).message), /no event for 1 min/);
    using patient = new StallWatchdog(300_000);
    t.mock.timers.tick(299_999);
    assert.equal(patient.stalled, false, "a stall_timeout over the grace is the first window too");
  });

  test("a disposed watchdog never fires", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const watchdog = new StallWatchdog(1000);
    watchdog[Symbol.dispose]();
    t.mock.timers.tick(5000);
    assert.equal(watchdog.stalled, false);
  });

  test("durations read as people say them", () => {
    assert.deepEqual([describeMs(15_000), describeMs(300_000), describeMs(90_000), describeMs(1_500)], ["15 s", "5 min", "1.5 min", "1.5 s"]);
  });
});

describe("stalled runs", () => {
  const events = [
    { type: "step_start", timestamp: 1, sessionID: "s", part: { type: "step-start" } },
    { type: "tool_use", timestamp: 2, sessionID: "s", part: { type: "tool", tool: "edit", state: { status: "completed", input: {}, output: "ok" } } },
    { type: "step_finish", timestamp: 3, sessionID: "s", part: { type: "step-finish", reason: "tool-calls", tokens: { input: 1, output: 1, reasoning: 0, cache: { read: 0, write: 0 } }, cost: 0 } },
  ];

  test("a run stopped for silence is stalled, not timeout or error, and says how long it was silent", () => {
    const parser = new OpencodeEventParser();
    parser.push(Buffer.from(events.map((e) => JSON.stringify(e)).join("\n") + "\n"));
    const judged = judgeOpencodeRun(parser.end(), { exitCode: null, signal: "SIGKILL", stalledForMs: 15_000, filesChanged: true });
    assert.equal(judged.status, "stalled");
    assert.match(judged.reason, /no event for 15 s/);
    assert.match(judged.reason, /after 1 steps/);
    const timedOut = judgeOpencodeRun(parser.end(), { exitCode: null, timedOut: true });
    assert.equal(timedOut.status, "timeout");
  });

  test("[run] stall_timeout defaults to 5 minutes and must be a duration", () => {
    const base = { golden: { repo: "/tmp/r" }, task: [{ name: "a", prompt: "p" }] };
    assert.equal(stallTimeoutMs(parsePlan(base, "/tmp")), 300_000);
    assert.equal(stallTimeoutMs(parsePlan({ ...base, run: { stall_timeout: "20s" } }, "/tmp")), 20_000);
    assert.throws(() => parsePlan({ ...base, run: { stall_timeout: "soon" } }, "/tmp"), /invalid duration/);
    assert.throws(() => parsePlan({ ...base, run: { stall_timeout: "10ms" } }, "/tmp"), /at least 1s/);
    assert.equal(parsePlan({ ...base, model: { max_concurrency: 2 } }, "/tmp").model.max_concurrency, 2);
    assert.throws(() => parsePlan({ ...base, model: { max_concurrency: 0 } }, "/tmp"), /max_concurrency/);
  });
});
