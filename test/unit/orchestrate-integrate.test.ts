// The integration's decisions with fake steps: clean patches are committed in order; a conflict
// or a verify failure is reverted and skipped (resolve = "skip") or handed to the resolver
// (resolve = "agent"), whose work is kept only without conflict markers and with verify
// passing; the resolver hears the tasks already integrated. Plus the prompts and the verdict.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { integratePatches, type IntegrationCandidate, type IntegrationSteps } from "../../src/orchestrator/integrate-patches.js";
import { parsePlan } from "../../src/orchestrator/plan.js";
import { RESOLVER_MARKER, resolverPrompt } from "../../src/orchestrator/resolver-prompt.js";
import { parseVerdict, REVIEW_DIFF_MAX_CHARS, REVIEW_MARKER, reviewAllowsLanding, reviewPrompt } from "../../src/orchestrator/review.js";
import type { VerifyOutcome } from "../../src/orchestrator/verify.js";
import { zeroUsage } from "../../src/llm/token-usage.js";

const candidate = (name: string): IntegrationCandidate => ({ name, prompt: `TASK-${name}: do it`, patch: `patch of ${name}` });
const FAIL: VerifyOutcome = { passed: false, durationMs: 1, command: "./check", exitCode: 1, timedOut: false, outputTail: "b missing" };

/** A fake workspace: which patches conflict, which break verify, what the resolver manages. */
function fakeWorkspace(behaviour: { conflicts?: string[]; breaksVerify?: string[]; resolverFixes?: boolean; resolverLeavesMarkers?: boolean }) {
  const log: string[] = [];
  const resolverSaw: Array<{ task: string; kind: string; integrated: string[] }> = [];
  let pending: string | undefined;
  let fixed = false;
  let commits = 0;
  const steps: IntegrationSteps = {
    async apply(c) {
      log.push(`apply ${c.name}`);
      pending = c.name;
      fixed = false;
      return behaviour.conflicts?.includes(c.name) ? { ok: false, detail: `error: patch failed: a.txt:1\nApplied patch to 'a.txt' with conflicts.\nU a.txt (${c.name})` } : { ok: true };
    },
    async verify() {
      log.push("verify");
      return pending !== undefined && behaviour.breaksVerify?.includes(pending) && !fixed ? FAIL : { passed: true, durationMs: 1 };
    },
    async resolve(c, problem, integrated) {
      log.push(`resolve ${c.name}`);
      resolverSaw.push({ task: c.name, kind: problem.kind, integrated: integrated.map((i) => i.name) });
      fixed = behaviour.resolverFixes === true;
      return { status: "succeeded", reason: "", summary: "merged both edits", tokens: zeroUsage(), durationMs: 5 };
    },
    async stage() {
      log.push("stage");
      return { files: ["a.txt"], markersLeft: behaviour.resolverLeavesMarkers === true };
    },
    async commit(message) {
      log.push(`commit ${message}`);
      pending = undefined;
      return `c${++commits}`;
    },
    async revert() {
      log.push("revert");
      pending = undefined;
    },
  };
  return { steps, log, resolverSaw };
}

describe("integratePatches", () => {
  test("clean patches are applied, verified and committed one by one in the order given; no resolver runs", async () => {
    const ws = fakeWorkspace({});
    const steps = await integratePatches([candidate("one"), candidate("two")], ws.steps, { resolve: "agent" });
    assert.deepEqual(steps, [
      { task: "one", outcome: "applied", commit: "c1" },
      { task: "two", outcome: "applied", commit: "c2" },
    ]);
    assert.deepEqual(ws.log, ["apply one", "verify", "commit agentiso: one", "apply two", "verify", "commit agentiso: two"]);
  });

  test('resolve = "skip": a conflicting patch is reverted and reported with git\'s output; the next patch still lands', async () => {
    const ws = fakeWorkspace({ conflicts: ["two"] });
    const seen: string[] = [];
    const steps = await integratePatches([candidate("one"), candidate("two"), candidate("three")], ws.steps, { resolve: "skip", onStep: (s) => seen.push(`${s.task}:${s.outcome}`) });
    assert.deepEqual(seen, ["one:applied", "two:skipped", "three:applied"]);
    assert.equal(steps[1]!.problem?.kind, "conflict");
    assert.match(steps[1]!.problem!.detail, /with conflicts/);
    assert.equal(steps[1]!.resolver, undefined);
    assert.deepEqual(ws.log, ["apply one", "verify", "commit agentiso: one", "apply two", "revert", "apply three", "verify", "commit agentiso: three"]);
  });

  test('resolve = "skip": a patch that applies but breaks verify is reverted and reported with the failing command', async () => {
    const ws = fakeWorkspace({ breaksVerify: ["one"] });
    const [step] = await integratePatches([candidate("one")], ws.steps, { resolve: "skip" });
    assert.equal(step!.outcome, "skipped");
    assert.equal(step!.problem?.kind, "verify");
    assert.match(step!.problem!.detail, /`\.\/check` exited with 1:\nb missing/);
    assert.deepEqual(ws.log, ["apply one", "verify", "revert"]);
  });

  test('resolve = "agent": the resolver fixes a conflict; its work is staged, verified and committed; it heard the tasks already integrated', async () => {
    const ws = fakeWorkspace({ conflicts: ["two"], resolverFixes: true });
    const steps = await integratePatches([candidate("one"), candidate("two"), candidate("three")], ws.steps, { resolve: "agent" });
    assert.deepEqual(steps.map((s) => s.outcome), ["applied", "resolved", "applied"]);
    assert.equal(steps[1]!.commit, "c2");
    assert.deepEqual(steps[1]!.resolver?.filesChanged, ["a.txt"]);
    assert.equal(steps[1]!.resolver?.unresolved, undefined);
    assert.equal(steps[1]!.resolver?.summary, "merged both edits");
    assert.deepEqual(ws.resolverSaw, [{ task: "two", kind: "conflict", integrated: ["one"] }]);
    assert.deepEqual(ws.log.slice(3, 8), ["apply two", "resolve two", "stage", "verify", "commit agentiso: two (conflict resolved by the resolver agent)"]);
  });

  test("a resolver that leaves conflict markers is not kept: reverted, skipped, and the reason says so; verify does not run", async () => {
    const ws = fakeWorkspace({ conflicts: ["one"], resolverLeavesMarkers: true });
    const [step] = await integratePatches([candidate("one")], ws.steps, { resolve: "agent" });
    assert.equal(step!.outcome, "skipped");
    assert.equal(step!.resolver?.unresolved, "conflict markers are left in the files");
    assert.deepEqual(ws.log, ["apply one", "resolve one", "stage", "revert"]);
  });

  test("a resolver after which verify still fails is not kept, and a skipped task is not among the integrated ones the next resolver hears", async () => {
    const ws = fakeWorkspace({ breaksVerify: ["one", "two"], resolverFixes: false });
    const steps = await integratePatches([candidate("one"), candidate("two")], ws.steps, { resolve: "agent" });
    assert.deepEqual(steps.map((s) => s.outcome), ["skipped", "skipped"]);
    assert.match(steps[0]!.resolver!.unresolved!, /^verify still fails: verify command `\.\/check` exited with 1/);
    assert.deepEqual(ws.resolverSaw.map((s) => s.integrated), [[], []]);
  });
});

describe("resolver and reviewer prompts", () => {
  test("the resolver's prompt starts with its marker and holds the conflict, both tasks' prompts and the verify commands", () => {
    const prompt = resolverPrompt(candidate("two"), { kind: "conflict", detail: "U a.txt" }, [candidate("one")], ["./check-both"]);
    assert.ok(prompt.startsWith(RESOLVER_MARKER));
    for (const part of ["U a.txt", "> TASK-two: do it", "> TASK-one: do it", "`./check-both`", "conflict markers"]) assert.ok(prompt.includes(part), part);
  });

  test("the reviewer's prompt carries the plan's prompt, the tasks and the diff, cut past its limit", () => {
    const prompt = reviewPrompt({ prompt: "Is it safe?", gate: false }, [candidate("one")], "+x\n".repeat(REVIEW_DIFF_MAX_CHARS));
    assert.ok(prompt.startsWith(`${REVIEW_MARKER}: Is it safe?`));
    assert.ok(prompt.includes("- one: TASK-one: do it"));
    assert.ok(prompt.includes(`its first ${REVIEW_DIFF_MAX_CHARS} characters`));
    assert.ok(prompt.length < REVIEW_DIFF_MAX_CHARS + 2000);
    assert.match(prompt, /VERDICT: approve` or `VERDICT: reject/);
  });

  test("the verdict is the answer's last line; anything else is none, and only a gate with approve (or no gate) lands", () => {
    assert.equal(parseVerdict("## Summary\nfine\n\nVERDICT: approve\n\n"), "approve");
    assert.equal(parseVerdict("## Summary\n**VERDICT:** Reject"), "reject");
    assert.equal(parseVerdict("VERDICT: approve\nbut one more thing"), "none");
    assert.equal(parseVerdict(""), "none");
    assert.equal(reviewAllowsLanding(undefined), true);
    assert.equal(reviewAllowsLanding({ gate: false, verdict: "reject" }), true);
    assert.equal(reviewAllowsLanding({ gate: true, verdict: "none" }), false);
    assert.equal(reviewAllowsLanding({ gate: true, verdict: "approve" }), true);
  });
});

describe("plan: integrate, resolve, verify, review", () => {
  const base = { golden: { repo: "/r" }, task: [{ name: "t", prompt: "p" }] };
  test('resolve defaults to "skip", verify to none; [review] gets a default prompt and gate = false', () => {
    const plan = parsePlan({ ...base, run: { merge: "integrate" }, review: {} }, "/");
    assert.equal(plan.run.merge, "integrate");
    assert.equal(plan.run.resolve, "skip");
    assert.deepEqual(plan.run.verify, []);
    assert.equal(plan.review?.gate, false);
    assert.match(plan.review!.prompt, /Review this change/);
    assert.equal(parsePlan(base, "/").review, undefined);
  });

  test("a [review] without merge = \"integrate\" and an unknown resolve mode are plan errors", () => {
    assert.throws(() => parsePlan({ ...base, review: {} }, "/"), /review: a \[review\] reads the integrated branch/);
    assert.throws(() => parsePlan({ ...base, run: { merge: "integrate", resolve: "ask" } }, "/"), /run\.resolve/);
  });
});
