// What a worker can do with the keyless proxy from inside its workspace: inference, and no more
// than its task's token cap. The attack runs where a worker's code runs — a bash tool call of
// the real opencode in a runc worker, through the guest tunnel — and writes what it saw into
// the worker's repository, so it comes back in the task's patch.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { orchestrateFixture, stubPlanToml } from "../support/orchestrate-fixture.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));

const CAP = 100;
/** Tokens the stub bills per answer. */
const PER_ANSWER = { promptTokens: 10, completionTokens: 5 };

// The worker's code: find the proxy in opencode's config (its environment), try the key's other
// powers, then 20 parallel streamed completions that do not ask for usage.
const ATTACK = `
base=$(printf %s "$OPENCODE_CONFIG_CONTENT" | grep -o '"baseURL":"[^"]*"' | cut -d'"' -f4)
out={{workdir}}/proxy-attack.txt
try() { printf '%s %s %s\\n' "$1" "$2" "$(curl -s -o /tmp/answer -w '%{http_code}' -X "$1" -H 'content-type: application/json' -d '{"purpose":"fine-tune"}' "$base/$2")"; }
{
  try DELETE files/file-abc
  try GET files
  try POST files
  try POST fine_tuning/jobs
  try DELETE models/stub-model
  echo "message $(cat /tmp/answer)"
} > "$out"
body='{"model":"stub-model","stream":true,"messages":[{"role":"user","content":"ATTACK-REQUEST"}]}'
for i in $(seq 20); do
  curl -s -o /dev/null -w 'parallel %{http_code}\\n' -H 'content-type: application/json' -d "$body" "$base/chat/completions" &
done >> "$out"
wait
`;

interface Report {
  tasks: Array<{ name: string; status: string; reason: string; tokens: { input: number; output: number; cacheRead: number; cacheWrite: number }; patch: string }>;
}

describe("the keyless proxy seen from a worker", { skip, timeout: 900_000 }, () => {
  test("a worker's DELETE and /files calls get 403; its 20 parallel streams without include_usage are capped and every forwarded token is counted", async () => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture({
      streamUsage: "when-asked", // like OpenAI: no usage unless the client asks for it
      usage: PER_ANSWER,
      rules: [
        { name: "attack", match: { firstUserMessageContains: "TASK-attack" }, steps: [{ toolCalls: [{ name: "bash", arguments: { command: ATTACK, description: "probe the proxy" } }] }, { text: "probed" }] },
        // the attack's own completions stay in flight 3 s, so the 20 overlap
        { name: "attack-request", match: { anyMessageContains: "ATTACK-REQUEST", withTools: false }, steps: [{ text: "streamed", delayMs: 3000 }] },
      ],
    });
    const plan = fixture.plan(stubPlanToml({ repo: fixture.repo, stubUrl: fixture.stub.url, tasks: ["attack"], keyEnv: "AGENTISO_TEST_KEY", model: `max_tokens_per_task = ${CAP}` }));
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-test-proxy-limits" });
    const results = join(fixture.dir, "results");
    const run = await cli.run(["orchestrate", plan, "--results", results], { timeoutMs: 600_000 });
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
    const task = report.tasks[0]!;
    assert.equal(run.code, 0, `${task.reason} ${run.stderr}`);
    const seen = task.patch
      .split("\n")
      .filter((line) => line.startsWith("+") && !line.startsWith("+++"))
      .map((line) => line.slice(1));
    assert.deepEqual(seen.slice(0, 5), ["DELETE files/file-abc 403", "GET files 403", "POST files 403", "POST fine_tuning/jobs 403", "DELETE models/stub-model 403"]);
    assert.match(seen[5]!, /DELETE \/v1\/models\/stub-model is not forwarded: this proxy lends the key for inference only.*"type":"agentiso_proxy_refused"/);
    assert.deepEqual(fixture.stub.requests.filter((r) => r.method !== "POST" || r.path !== "/v1/chat/completions"), [], "no refused call reached the provider");

    const parallel = seen.filter((line) => line.startsWith("parallel ")).map((line) => line.split(" ")[1]);
    assert.equal(parallel.length, 20);
    assert.deepEqual(parallel.filter((s) => s !== "429"), ["200"], `one stream holds the rest of the budget while it runs, the others get 429: ${parallel.join(" ")}`);
    const attackStreams = fixture.stub.requests.filter((r) => r.rule === "attack-request");
    assert.equal(attackStreams.length, 1);
    assert.deepEqual(attackStreams[0]!.body, { model: "stub-model", stream: true, messages: [{ role: "user", content: "ATTACK-REQUEST" }], stream_options: { include_usage: true } }, "the proxy asked for usage");
    const billed = fixture.stub.usageTotals();
    assert.deepEqual({ input: task.tokens.input, output: task.tokens.output }, { input: billed.promptTokens, output: billed.completionTokens }, "every token the provider billed is in the task's count");
    assert.ok(task.tokens.input + task.tokens.output <= CAP, `the task stayed under its cap: ${JSON.stringify(task.tokens)}`);
  });
});
