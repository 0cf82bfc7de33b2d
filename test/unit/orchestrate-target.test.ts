// What `agentiso orchestrate "TASK" --repo ...` sends the daemon: the task flags become the
// plan's [golden], [model], [run] verification and merge settings and [review]; with a plan
// file they are refused.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { orchestrateTarget } from "../../src/cli/orchestrate-target.js";

describe("orchestrate target from flags", () => {
  test("--verify, --verify-retries, --merge, --resolve and --review fill [run] and [review] of a free-text task's plan", async () => {
    const values = { repo: "/r", verify: ["node --test", "npm run lint"], "verify-retries": "1", merge: "integrate", resolve: "agent", review: true };
    const target = await orchestrateTarget("grow the library", values);
    assert.deepEqual(target.raw.run, { verify: ["node --test", "npm run lint"], verify_retries: 1, merge: "integrate", resolve: "agent" });
    assert.deepEqual(target.raw.review, {});
    assert.deepEqual([target.plan.run.verify, target.plan.run.verify_retries, target.plan.run.merge, target.plan.run.resolve], [["node --test", "npm run lint"], 1, "integrate", "agent"]);
    assert.ok(target.plan.review?.prompt, "the default review prompt");
  });

  test("without those flags [run] keeps its defaults and there is no [review]; --review without --merge integrate is refused", async () => {
    const target = await orchestrateTarget("grow the library", { repo: "/r" });
    assert.deepEqual([target.plan.run.verify, target.plan.run.merge, target.plan.review], [[], "none", undefined]);
    await assert.rejects(orchestrateTarget("grow the library", { repo: "/r", review: true }), /merge = "integrate"/);
  });

  test("a plan file refuses the task flags", async () => {
    await assert.rejects(orchestrateTarget("examples/demo-plan.toml", { verify: ["true"] }), /--verify go with a free-text task/);
  });
});
