// A continued opencode session (`opencode run --session`) sends the earlier conversation plus a
// new user message: a stub script can answer it with its own rule, counting steps from there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseReply, viewChatRequest } from "../../src/llm/stub-reply.js";
import { parseStubScript } from "../../src/llm/stub-script.js";

const TOOLS = [{ type: "function", function: { name: "write", parameters: {} } }];
const SYSTEM = { role: "system", content: "Working directory: /repo" };

const script = parseStubScript({
  rules: [
    {
      name: "fix",
      match: { lastUserMessageContains: "did not pass verification" },
      countTurnsFrom: "last-user-message",
      steps: [{ toolCalls: [{ name: "write", arguments: { filePath: "{{workdir}}/x", content: "fixed" } }] }, { text: "Fixed." }],
    },
    {
      name: "task",
      match: { firstUserMessageContains: "TASK" },
      steps: [{ toolCalls: [{ name: "write", arguments: { filePath: "{{workdir}}/x", content: "wrong" } }] }, { text: "Done." }],
    },
  ],
});

const firstRun = [
  SYSTEM,
  { role: "user", content: "TASK: write x" },
  { role: "assistant", content: "", tool_calls: [{ id: "1", type: "function", function: { name: "write", arguments: "{}" } }] },
  { role: "tool", tool_call_id: "1", content: "ok" },
  { role: "assistant", content: "Done." },
];

function reply(messages: object[]) {
  const chosen = chooseReply(script, viewChatRequest({ model: "m", tools: TOOLS, messages }));
  return { rule: chosen.rule, step: chosen.stepIndex, text: chosen.step.text, content: chosen.step.toolCalls?.[0]?.arguments.content };
}

test("the first run plays the task rule by conversation turns", () => {
  assert.deepEqual(reply(firstRun.slice(0, 2)), { rule: "task", step: 0, text: undefined, content: "wrong" });
  assert.deepEqual(reply(firstRun.slice(0, 4)), { rule: "task", step: 1, text: "Done.", content: undefined });
});

test("the continued session matches the new user message and starts again at step 0", () => {
  const continued = [...firstRun, { role: "user", content: "Your changes did not pass verification: ..." }];
  assert.deepEqual(reply(continued), { rule: "fix", step: 0, text: undefined, content: "fixed" });
  const afterFix = [...continued, { role: "assistant", content: "", tool_calls: [] }, { role: "tool", tool_call_id: "2", content: "ok" }];
  assert.deepEqual(reply(afterFix), { rule: "fix", step: 1, text: "Fixed.", content: undefined });
});

test("without countTurnsFrom the steps count the whole conversation, as before", () => {
  const plain = parseStubScript({ rules: [{ match: { lastUserMessageContains: "again" }, steps: [{ text: "zero" }, { text: "one" }, { text: "two" }] }] });
  const view = viewChatRequest({ tools: TOOLS, messages: [...firstRun, { role: "user", content: "again" }] });
  assert.equal(chooseReply(plain, view).step.text, "two");
});
