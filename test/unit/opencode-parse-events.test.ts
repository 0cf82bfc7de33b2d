// The run wrapper's verdicts on the four real opencode 1.18.33 streams (test/fixtures/opencode).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeEvent, OpencodeEventParser, parseOpencodeOutput } from "../../src/orchestrator/opencode/parse-events.js";
import { judgeOpencodeRun } from "../../src/orchestrator/opencode/run-outcome.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/opencode");
const fixture = (name: string) => readFileSync(join(FIXTURES, `1.18.33-${name}.ndjson`), "utf8");

describe("opencode event parsing", () => {
  test("a write, an edit and a final answer with exit 0 and changed files is a success", () => {
    const run = parseOpencodeOutput(fixture("ok"));
    const result = judgeOpencodeRun(run, { exitCode: 0, filesChanged: true });
    assert.equal(result.status, "succeeded");
    assert.equal(result.reason, "");
    assert.equal(result.finalText, "Edited a.txt and wrote NEW.md");
    assert.deepEqual(
      result.toolCalls.map((c) => [c.tool, c.status, c.title]),
      [
        ["write", "completed", "NEW.md"],
        ["edit", "completed", "a.txt"],
      ],
    );
    assert.equal(result.steps, 3);
    assert.deepEqual(result.tokens, { input: 300, output: 60, reasoning: 0, cacheRead: 0, cacheWrite: 0 });
    assert.equal(result.costUsd, 0);
    assert.equal(result.sessionId, "ses_dea15bf59ffexp66mbRHQ3AuPf");
    assert.equal(result.durationMs, 1795664006913 - 1795664005909);
  });

  test("a provider HTTP 400 is a failure that names the provider error", () => {
    const result = judgeOpencodeRun(parseOpencodeOutput(fixture("err400")), { exitCode: 1, filesChanged: false });
    assert.equal(result.status, "failed");
    assert.match(result.reason, /APIError \(HTTP 400\): stub: scripted failure/);
    assert.deepEqual(result.errors, [{ name: "APIError", message: "stub: scripted failure", statusCode: 400, retryable: false }]);
    assert.equal(result.steps, 0);
  });

  test("calls to tools the config removed are not a success even with exit 0 and a confident answer", () => {
    const result = judgeOpencodeRun(parseOpencodeOutput(fixture("denied")), { exitCode: 0, filesChanged: false });
    assert.equal(result.status, "failed");
    assert.match(result.reason, /unavailable tools \(write, edit\)/);
    assert.equal(result.finalText, "Edited a.txt and wrote NEW.md");
    assert.deepEqual(result.toolCalls.map((c) => c.tool), ["invalid", "invalid"]);
  });

  test("a permission auto-rejected by a headless run is not a success even with exit 0", () => {
    const result = judgeOpencodeRun(parseOpencodeOutput(fixture("ask-rejected")), { exitCode: 0, filesChanged: false });
    assert.equal(result.status, "failed");
    assert.match(result.reason, /permission rejected for bash/);
    assert.equal(result.finalText, "");
    assert.deepEqual(result.toolCalls.map((c) => [c.tool, c.status]), [["bash", "error"]]);
    assert.deepEqual(result.tokens, { input: 100, output: 20, reasoning: 0, cacheRead: 0, cacheWrite: 0 });
  });

  test("a timeout wins over everything the events say", () => {
    const result = judgeOpencodeRun(parseOpencodeOutput(fixture("ok")), { exitCode: null, timedOut: true, filesChanged: true });
    assert.equal(result.status, "timeout");
  });

  test("opencode dying before printing any event is an error, with stderr in the reason", () => {
    const result = judgeOpencodeRun(parseOpencodeOutput(""), { exitCode: 1, stderrTail: "Error: bad config\n" });
    assert.equal(result.status, "error");
    assert.match(result.reason, /exited with 1 before printing any event: Error: bad config/);
  });

  test("a run that stops after a tool-calls step has no final answer and is not a success", () => {
    const lines = fixture("ok").trim().split("\n").slice(0, 6).join("\n");
    const result = judgeOpencodeRun(parseOpencodeOutput(lines), { exitCode: 0, filesChanged: true });
    assert.equal(result.status, "failed");
    assert.match(result.reason, /last step: tool-calls/);
  });

  test("the stream parses the same in any chunking, including splits inside a UTF-8 character", () => {
    const text = fixture("ok").replace("written by the model", "written by the model — ünïcode");
    const whole = parseOpencodeOutput(text);
    const bytes = Buffer.from(text, "utf8");
    for (const size of [1, 7, 64, 1000]) {
      const parser = new OpencodeEventParser();
      for (let i = 0; i < bytes.length; i += size) parser.push(bytes.subarray(i, i + size));
      const chunked = parser.end();
      assert.deepEqual(chunked.events, whole.events);
      assert.deepEqual(chunked.tokens, whole.tokens);
    }
    assert.match(JSON.stringify(whole.toolCalls[0]!.input), /ünïcode/);
  });

  test("unknown event types are kept and non-JSON lines are counted, not fatal", () => {
    const text = `{"type":"reasoning","part":{"text":"hm"}}\nnot json at all\n${fixture("ok")}{"type":"future_thing","x":1}`;
    const run = parseOpencodeOutput(text);
    assert.equal(run.unparsedLines, 1);
    assert.equal(run.events[0]!.type, "reasoning");
    assert.equal(run.events.at(-1)!.type, "future_thing");
    assert.equal(judgeOpencodeRun(run, { exitCode: 0, filesChanged: true }).status, "succeeded");
  });
});

test("describeEvent gives one line for a tool call, text or error, nothing for step bookkeeping", () => {
  assert.equal(describeEvent({ type: "tool_use", part: { tool: "edit", state: { status: "completed", title: "a.txt" } } }), "edit completed: a.txt");
  assert.equal(describeEvent({ type: "text", part: { text: "Done.\n\nAll  good" } }), "text: Done. All good");
  assert.equal(describeEvent({ type: "step_finish", part: {} }), undefined);
  assert.equal(describeEvent({ type: "text", part: { text: "x".repeat(500) } })!.length, 160);
});

test("a flood of lines that are not events (yes, broken objects) is counted, and parsing them leaves the stack trace limit as it was", () => {
  const parser = new OpencodeEventParser();
  const limit = Error.stackTraceLimit;
  parser.push("y\n".repeat(1000) + "{x}\n".repeat(1000) + '{"type":"step_finish","part":{"reason":"stop"}}\n' + "[1]\n");
  const run = parser.end();
  assert.equal(run.unparsedLines, 2001);
  assert.equal(run.steps, 1);
  assert.equal(Error.stackTraceLimit, limit);
});
