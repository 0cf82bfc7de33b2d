// The planner's answer → the plan's tasks (fenced or bare JSON, validation, de-duplication,
// the bound), the generated plan.toml loading back as the same plan, and the shipped stub's
// planning answer.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parsePlannerAnswer } from "../../src/orchestrator/planner-answer.js";
import { planningPrompt, retryPrompt, PLANNER_MARKER, PLANNER_RETRY_MARKER } from "../../src/orchestrator/planner-prompt.js";
import { planToToml } from "../../src/orchestrator/plan-toml.js";
import { loadPlanFile, parsePlan, parseTaskPlan } from "../../src/orchestrator/plan.js";
import { demoPlannerScript } from "../../src/orchestrator/demo-planner-script.js";
import { parseStubScript } from "../../src/llm/stub-script.js";
import { chooseReply, viewChatRequest } from "../../src/llm/stub-reply.js";
import { AgentisoError } from "../../src/core/errors.js";

const three = [
  { name: "add-a", prompt: "add a", files: ["a.txt"] },
  { name: "add-b", prompt: "add b", files: ["b.txt"] },
  { name: "add-c", prompt: "add c" },
];

describe("planner answer", () => {
  test("a fenced ```json block among prose is the answer; files default to none", () => {
    const answer = parsePlannerAnswer(`I read the repo.\n\n\`\`\`json\n${JSON.stringify(three)}\n\`\`\`\nThat is all.`, 3);
    assert.ok(answer.ok);
    assert.deepEqual(answer.tasks.map((t) => [t.name, t.files]), [["add-a", ["a.txt"]], ["add-b", ["b.txt"]], ["add-c", []]]);
  });

  test("a bare list, or an object with a tasks list, is accepted too", () => {
    assert.ok(parsePlannerAnswer(`Here: ${JSON.stringify(three)}`, 3).ok);
    const wrapped = parsePlannerAnswer(JSON.stringify({ tasks: three }), 3);
    assert.ok(wrapped.ok && wrapped.tasks.length === 3);
  });

  test("more subtasks than maxTasks are cut to the first ones, and the cut is counted", () => {
    const answer = parsePlannerAnswer(JSON.stringify(three), 2);
    assert.ok(answer.ok);
    assert.deepEqual(answer.tasks.map((t) => t.name), ["add-a", "add-b"]);
    assert.equal(answer.dropped, 1);
  });

  test("identical prompts become one subtask with the files merged; a repeated name gets a suffix", () => {
    const answer = parsePlannerAnswer(
      JSON.stringify([
        { name: "x", prompt: "do x", files: ["1"] },
        { name: "x2", prompt: " do x ", files: ["2", "1"] },
        { name: "x", prompt: "do y" },
      ]),
      5,
    );
    assert.ok(answer.ok);
    assert.deepEqual(answer.tasks, [
      { name: "x", prompt: "do x", files: ["1", "2"] },
      { name: "x-2", prompt: "do y", files: [] },
    ]);
  });

  test("nonsense, unparsable JSON, bad names and empty prompts are refused with the reason", () => {
    assert.match(errorOf(parsePlannerAnswer("I could not find anything to do.", 3)), /no JSON list/);
    assert.match(errorOf(parsePlannerAnswer("```json\n[{name: 'a'}]\n```", 3)), /does not parse/);
    assert.match(errorOf(parsePlannerAnswer(JSON.stringify([{ name: "Bad Name!", prompt: "p" }]), 3)), /task names use a-z/);
    assert.match(errorOf(parsePlannerAnswer(JSON.stringify([{ name: "ok", prompt: "  " }]), 3)), /non-empty prompt/);
    assert.match(errorOf(parsePlannerAnswer("[]", 3)), /at least one subtask/);
  });

  test("the prompts carry the markers, the task, the bound and the refusal reason", () => {
    const first = planningPrompt("add three things", 3);
    assert.ok(first.startsWith(PLANNER_MARKER) && first.includes("add three things") && first.includes("at most 3"));
    assert.match(first, /do NOT edit/);
    const retry = retryPrompt("add three things", 3, "the answer holds no JSON list");
    assert.ok(retry.startsWith(PLANNER_RETRY_MARKER) && retry.includes("no JSON list") && retry.includes(PLANNER_MARKER));
  });
});

describe("generated plan.toml", () => {
  test("loads back as the same plan: settings, tasks, files", async () => {
    const dir = mkdtempSync("/tmp/ais-plan-toml-");
    try {
      const plan = parseTaskPlan({ golden: { repo: "./repo", network: "none" }, model: { provider: "openai-compatible", base_url: "http://127.0.0.1:9/v1", api_key_env: "K" }, run: { memory: "768M" } }, "add three things", dir);
      plan.task = three.map((t) => ({ name: t.name, prompt: t.prompt, workdir: "/workspace", files: t.files ?? [] }));
      const path = join(dir, "plan.toml");
      writeFileSync(path, planToToml(plan, ["Written by the agentiso planner", "for a test"]));
      const loaded = await loadPlanFile(path);
      assert.deepEqual(loaded, plan);
      assert.equal(loaded.golden.repo, join(dir, "repo"), "the repo path is absolute, so the plan runs from anywhere");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a plan with its own [[task]] list and a free-text task is refused", () => {
    assert.throws(() => parseTaskPlan({ golden: { repo: "/r" }, task: [{ name: "a", prompt: "p" }] }, "t", "/"), (err: AgentisoError) => err.code === "INVALID_INPUT" && /not both/.test(err.message));
    assert.throws(() => parsePlan({ golden: { repo: "/r" } }, "/"), /invalid plan: task/, "a plan file still needs its tasks");
  });
});

describe("shipped stub planner", () => {
  test("answers the planning prompt with up to three subtasks that parse, and scripts their workers", () => {
    const script = parseStubScript(demoPlannerScript("add three things", 5));
    const ask = (prompt: string) => chooseReply(script, viewChatRequest({ messages: [{ role: "user", content: JSON.stringify(prompt) }], tools: [{ function: { name: "write" } }] }));
    const reply = ask(planningPrompt("add three things", 5));
    assert.equal(reply.rule, "planner");
    const answer = parsePlannerAnswer(reply.step.text ?? "", 5);
    assert.ok(answer.ok);
    assert.equal(answer.tasks.length, 3);
    assert.equal(ask(answer.tasks[1]!.prompt).rule, answer.tasks[1]!.name, "each planned task's prompt has its worker rule");
    assert.equal(parsePlannerAnswer(ask(planningPrompt("x", 2)).step.text ?? "", 2).ok, true);
  });
});

function errorOf(answer: ReturnType<typeof parsePlannerAnswer>): string {
  assert.equal(answer.ok, false);
  return answer.ok ? "" : answer.error;
}
