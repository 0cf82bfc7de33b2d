// The shipped demo script against the real demo project, without opencode: its planner answer
// parses into the three code tasks, each task's scripted edits are played on a copy of
// examples/demo-project and judged by the project's own `node --test` (multiply and stats pass,
// divide's first edit fails and the continued session's fix passes), the two edits of math.js
// conflict in a real three-way merge, and the resolver's math.js passes every test.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { chooseReply, viewChatRequest } from "../../src/llm/stub-reply.js";
import { parseStubScript, type StubScript } from "../../src/llm/stub-script.js";
import { DEMO_CODE_TASKS, DEMO_TASK } from "../../src/orchestrator/demo-code-script.js";
import { demoPlannerScript } from "../../src/orchestrator/demo-planner-script.js";
import { demoStubScript } from "../../src/orchestrator/demo-script.js";
import { loadPlanFile } from "../../src/orchestrator/plan.js";
import { parsePlannerAnswer } from "../../src/orchestrator/planner-answer.js";
import { planningPrompt } from "../../src/orchestrator/planner-prompt.js";
import { resolverPrompt } from "../../src/orchestrator/resolver-prompt.js";
import { verifyRetryPrompt } from "../../src/orchestrator/verify-with-retries.js";

type Messages = Array<{ role: string; content: string }>;

const script = parseStubScript(demoPlannerScript(DEMO_TASK, 3));
const ask = (messages: Messages) => chooseReply(script, viewChatRequest({ messages: [{ role: "system", content: "Working directory: WD" }, ...messages], tools: [{ function: { name: "write" } }] }));
const user = (text: string) => ({ role: "user", content: JSON.stringify(text) });
const assistant = { role: "assistant", content: "" };

// Plays the rule's tool-call steps in dir (write, edit, bash) until its text step.
async function play(dir: string, messages: Messages): Promise<string> {
  for (let turn = 0; turn < 10; turn++) {
    const { rule, step } = ask(messages);
    if (!step.toolCalls) return rule ?? "(default)";
    for (const call of step.toolCalls) {
      const args = call.arguments as Record<string, string>;
      const path = (args.filePath ?? "").replace("WD", dir);
      if (call.name === "write") writeFileSync(path, args.content!);
      else if (call.name === "edit") {
        const text = readFileSync(path, "utf8");
        assert.ok(text.includes(args.oldString!), `${rule}: ${args.oldString} is in ${path}`);
        writeFileSync(path, text.replace(args.oldString!, args.newString!));
      } else if (call.name === "bash") await runCommand(["bash", "-c", args.command!], { cwd: dir });
      else assert.fail(`unexpected tool ${call.name}`);
    }
    messages = [...messages, assistant];
  }
  return assert.fail("the rule never answered with text");
}

async function nodeTest(dir: string): Promise<{ passed: boolean; output: string }> {
  const run = await runCommand(["node", "--test"], { cwd: dir, check: false });
  return { passed: run.exitCode === 0, output: run.stdout + run.stderr };
}

describe("the shipped demo script", () => {
  test("plans the demo sentence into three code tasks and answers each task's prompt with its rule", async () => {
    const answer = parsePlannerAnswer(ask([user(planningPrompt(DEMO_TASK, 3))]).step.text ?? "", 3);
    assert.ok(answer.ok);
    assert.deepEqual(answer.tasks.map((t) => t.name), ["multiply", "divide", "stats"]);
    for (const task of DEMO_CODE_TASKS) assert.equal(ask([user(task.prompt)]).rule, task.name);
    assert.match(readFileSync("scripts/demo.sh", "utf8"), new RegExp(DEMO_TASK.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&")), "scripts/demo.sh orchestrates the sentence the script knows");
    assert.deepEqual(demoStubScript(DEMO_CODE_TASKS.map((t) => ({ name: t.name, prompt: t.prompt }))).rules?.map((r) => r.name), (script as StubScript).rules.slice(1).map((r) => r.name), "the generated plan, run again, gets the same answers");
    const examplePlan = await loadPlanFile("examples/demo-plan.toml");
    assert.deepEqual(examplePlan.task.map((t) => [t.name, t.prompt, t.files]), DEMO_CODE_TASKS.map((t) => [t.name, t.prompt, t.files]), "examples/demo-plan.toml holds the demo's tasks");
  });

  test("played on the demo project: two tasks pass node --test at once, divide passes after its retry, the resolver's merge passes all tests", async () => {
    const root = mkdtempSync("/tmp/ais-demo-script-");
    try {
      const dirs: Record<string, string> = {};
      for (const task of DEMO_CODE_TASKS) {
        const dir = (dirs[task.name] = join(root, task.name));
        cpSync("examples/demo-project", dir, { recursive: true });
        assert.equal(await play(dir, [user(task.prompt)]), task.name);
      }
      assert.deepEqual([(await nodeTest(dirs.multiply!)).passed, (await nodeTest(dirs.stats!)).passed], [true, true]);
      const failed = await nodeTest(dirs.divide!);
      assert.equal(failed.passed, false, "divide's first edit misses the zero guard");
      assert.match(failed.output, /divide refuses to divide by zero/);
      const retry = verifyRetryPrompt({ passed: false, durationMs: 1, command: "node --test", exitCode: 1, timedOut: false, outputTail: failed.output.slice(-2000) });
      assert.equal(await play(dirs.divide!, [user(DEMO_CODE_TASKS[1].prompt), assistant, { role: "tool", content: "ok" }, assistant, user(retry)]), "divide-fix");
      assert.equal((await nodeTest(dirs.divide!)).passed, true, "the continued session's fix passes");

      const base = join(root, "base.js");
      cpSync("examples/demo-project/math.js", base);
      const merged = await runCommand(["git", "merge-file", "-p", join(dirs.multiply!, "math.js"), base, join(dirs.divide!, "math.js")], { check: false });
      assert.ok(merged.exitCode! > 0 && merged.stdout.includes("<<<<<<<"), "multiply and divide conflict on math.js");
      const integrated = dirs.stats!;
      for (const t of ["multiply", "divide"]) cpSync(join(dirs[t]!, "test"), join(integrated, "test"), { recursive: true });
      writeFileSync(join(integrated, "math.js"), merged.stdout);
      const candidate = { name: "divide", prompt: DEMO_CODE_TASKS[1].prompt, patch: "" };
      const multiply = { name: "multiply", prompt: DEMO_CODE_TASKS[0].prompt, patch: "" };
      assert.equal(await play(integrated, [user(resolverPrompt(candidate, { kind: "conflict", detail: "math.js" }, [multiply], ["node --test"]))]), "resolver");
      const all = await nodeTest(integrated);
      assert.equal(all.passed, true, all.output);
      assert.match(all.output, /# pass 6/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
