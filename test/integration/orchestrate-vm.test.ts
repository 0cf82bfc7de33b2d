// `agentiso orchestrate` with `runtime = "vm"`: the golden workspace and its workers are QEMU
// microVMs under TCG; the real opencode inside reaches the scripted stub model on the host's
// loopback only through the agent's tunnel to the keyless proxy. The golden's setup runs with
// egress (a network device, booted with it: a microVM cannot get one later) and downloads a
// package and clones a repository from the test's fake registry over TLS, trusting the test's CA
// through `[net] caFiles` (the VM half of workspace-trust.test.ts); the workers run with network
// none (no network device) and use what the golden downloaded. Fewer tasks than the container
// test: everything is emulated. The golden restarts without its network device before its
// snapshot, which holds its memory: the workers resume it instead of booting.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { editTask, orchestrateFixture, stubPlanToml } from "../support/orchestrate-fixture.js";
import { startFakeTlsSite, TINY_PACKAGE_GREETING } from "../support/fake-tls-site.js";

const skip = requires(isRoot(), hasCommand("qemu-system-x86_64"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("slirp4netns"), hasCommand("nft"), hasCommand("openssl"));

// What a worker (network none) sees: the package the golden downloaded, its network devices, whether the registry answers.
const WORKER_PROBE = (registry: string) =>
  `{ node -p "require('./node_modules/tls-dep')"; echo "links: $(ls /sys/class/net | tr '\\n' ' ')"; curl -sS --max-time 3 ${registry}tls-dep/index.json >/dev/null 2>&1; echo "registry: exit $?"; } > probe.txt 2>&1`;

interface Report {
  tasks: Array<{ name: string; status: string; reason: string; workerState?: string; filesChanged: string[]; patch: string; toolCalls: unknown[]; phasesMs?: { fork: number } }>;
  stagesMs?: { golden: number; tasks: number; merge: number };
  totals: { tokens: { input: number; output: number } };
  merge: Array<{ task: string; branch: string; ok: boolean }>;
}

describe("agentiso orchestrate on the vm runtime", { skip, timeout: 1_800_000 }, () => {
  test("a VM golden downloads from the fake registry over TLS with egress, then 2 VM workers with network none edit 2 files through opencode's tools; tokens metered, workers destroyed, branches merge", async (t) => {
    await ensureImage("opencode");
    await using site = await startFakeTlsSite().then((s) => Object.assign(s, { [Symbol.asyncDispose]: () => s.close() }));
    const probeB = editTask("edit-b", "b.txt");
    probeB.steps.splice(1, 0, { toolCalls: [{ name: "bash", arguments: { command: WORKER_PROBE(site.url), description: "probe" } }] });
    await using fixture = await orchestrateFixture({
      usage: { promptTokens: 100, completionTokens: 20 },
      rules: [editTask("edit-a", "a.txt"), probeB],
      default: { text: "nothing to do" },
    });
    const download = [
      `curl -sSf ${site.url}tls-dep/-/tls-dep-1.0.0.tgz -o /tmp/dep.tgz`,
      "mkdir -p node_modules/tls-dep",
      "tar xzf /tmp/dep.tgz -C node_modules/tls-dep --strip-components=1",
    ].join(" && ");
    const clone = `git clone -q ${site.url}repo.git /tmp/tls-repo && cp /tmp/tls-repo/README BUILD-OUTPUT.txt`;
    const plan = fixture.plan(
      stubPlanToml({
        repo: fixture.repo,
        stubUrl: fixture.stub.url,
        tasks: ["edit-a", "edit-b"],
        keyEnv: "AGENTISO_TEST_KEY",
        goldenNetwork: "egress",
        golden: `runtime = "vm"\nsetup = ${JSON.stringify([download, clone])}`,
        timeout: "12m",
        // opencode's first event under TCG on a busy 2-core machine can take more than the default 5 min
        run: 'merge = "branch-per-task"\nstall_timeout = "10m"',
      }),
    );
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-test-orchestrate-vm", AGENTISO_VM_ACCEL: "tcg" });
    writeFileSync(join(cli.home, "config.toml"), `[net]\ncaFiles = ["${site.caFile}"]\n`);
    const results = join(fixture.dir, "results");
    const run = await cli.run(["orchestrate", plan, "--results", results], { timeoutMs: 1_500_000 });
    assert.ok(existsSync(join(results, "report.json")), `no report (exit ${run.code}): ${run.stderr}`);
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
    t.diagnostic(`stages ${JSON.stringify(report.stagesMs)}; workers forked (to a running agent) in ${report.tasks.map((w) => `${w.name} ${Math.round(w.phasesMs?.fork ?? -1)} ms`).join(", ")}`);
    assert.equal(run.code, 0, `${run.stderr}\n${JSON.stringify(report.tasks.map((t) => ({ name: t.name, reason: t.reason, toolCalls: t.toolCalls })), null, 1)}`);
    for (const [task, files] of [["edit-a", ["a.txt"]], ["edit-b", ["b.txt", "probe.txt"]]] as const) {
      const result = report.tasks.find((t) => t.name === task)!;
      assert.equal(result.status, "succeeded", `${task}: ${result.reason}`);
      assert.deepEqual(result.filesChanged, files, "what the golden downloaded is not in the patch");
      assert.match(result.patch, new RegExp(`\\+${files[0]}: ONE by ${task}`));
    }
    // the worker (network none: loopback only, the registry unreachable) uses the package the golden downloaded over TLS
    const probe = report.tasks.find((t) => t.name === "edit-b")!.patch;
    assert.match(probe, new RegExp(`\\+${TINY_PACKAGE_GREETING}\\n\\+links: lo \\n\\+registry: exit 7\\n`), probe);
    const usage = fixture.stub.usageTotals();
    assert.equal(report.totals.tokens.input, usage.promptTokens);
    assert.equal(report.totals.tokens.output, usage.completionTokens);
    assert.ok(fixture.stub.requests.every((r) => r.headers.authorization === "Bearer sk-test-orchestrate-vm"), "the proxy sent the real key upstream");
    assert.deepEqual(report.tasks.map((t) => t.workerState), ["destroyed", "destroyed"]);
    assert.deepEqual(await cli.json(["ws", "ls"]), [], "workers and the golden workspace are destroyed");
    assert.deepEqual(report.merge.map((m) => [m.task, m.ok]).sort(), [["edit-a", true], ["edit-b", true]]);
    // the golden's snapshot held its memory and the workers resumed it instead of booting
    const log = readFileSync(join(cli.home, "daemon.log"), "utf8");
    assert.match(log, /"msg":"memory snapshot saved"/);
    assert.doesNotMatch(log, /"msg":"memory snapshot not resumed/);
    // (the golden itself boots cold twice: with its network device for setup, then without it)
    assert.equal((log.match(/"msg":"workspace vm started".*"fromTemplate":true/g) ?? []).length, 2, "both workers resumed the golden's saved machine");
  });
});
