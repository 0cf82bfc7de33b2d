// One workspace cannot exhaust the root daemon (issue 11, finding 5), through the public
// surface: a plan whose tasks flood opencode's stdout with `yes` (through /proc/PID/fd/1, or
// else the model's 12 MB reply) and hand back a 3 GB patch (the worker's own `git` is the
// workspace's to replace), then MCP file_transfer and `ws cp` of a 100 TiB sparse file and of
// a link to /dev/zero. Each is refused with TOO_LARGE, the other task still succeeds, nothing
// partial is left in the transfer dir, and the daemon's peak RSS stays under 300 MiB.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { editTask, orchestrateFixture, stubPlanToml } from "../support/orchestrate-fixture.js";
import { unixHttpClient } from "./mcp-clients.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));
const MAX_DAEMON_RSS_MIB = 300;

interface Report {
  tasks: Array<{ name: string; status: string; reason: string; patch: string }>;
}

// A task whose model runs one bash command in the worker, then answers.
function bashTask(name: string, command: string) {
  return {
    name,
    match: { firstUserMessageContains: `TASK-${name}` },
    steps: [{ toolCalls: [{ name: "bash", arguments: { command, description: name } }] }, { text: `ran ${name}` }],
  };
}

// Workspace code aiming at opencode's stdout. opencode writes to a file that the worker streams
// (output-through-file.ts), so /proc/PID/fd/1 opens and `yes` floods it; before that file,
// it was the agent's socket and the open failed (ENXIO), and the bytes came through the
// model's reply (model responses are untrusted): 12 MB of `y`. Either way the cap must hold.
const FLOOD_STDOUT = "exec yes > /proc/$(pgrep -o -x opencode)/fd/1";
const FLOOD_REPLY = "y".repeat(12_000_000);

// The flood task: tries the /proc route, then the model answers with 12 MB that opencode prints.
function floodTask(name: string) {
  return {
    name,
    match: { firstUserMessageContains: `TASK-${name}` },
    steps: [{ toolCalls: [{ name: "bash", arguments: { command: FLOOD_STDOUT, description: name } }] }, { text: FLOOD_REPLY }],
  };
}
// The worker's git is the worker's: this one answers the patch collection with 3 GB of zeros.
// (Written without a literal path outside the repo: opencode's bash tool refuses those, a model
// that means harm does not spell them out.)
const FAKE_GIT_SCRIPT = '#!/bin/sh\ncase "$*" in *--binary*) exec head -c 3G /dev/zero;; esac\nexec /usr/bin/git "$@"\n';
const FAKE_GIT = `d=$(printf '%s/%s/%s' '' usr local)/bin; echo ${Buffer.from(FAKE_GIT_SCRIPT).toString("base64")} | base64 -d > "$d/git" && chmod +x "$d/git"`;

function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rssMiB: Math.round(kib("VmRSS") / 1024), peakMiB: Math.round(kib("VmHWM") / 1024) };
}

describe("bytes a workspace produces are capped", { skip, timeout: 1_800_000 }, () => {
  test("opencode's stdout flooded with yes, a 3 GB patch and downloads of a 100 TiB sparse file and /dev/zero are refused with TOO_LARGE; daemon RSS stays under 300 MiB", async () => {
    await ensureImage("opencode");
    await using fixture = await orchestrateFixture({ rules: [floodTask("flood"), bashTask("bigpatch", FAKE_GIT), editTask("survivor", "a.txt")] });
    await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-bytes" });
    // caps below the defaults (16 MiB, 4 GiB) so opencode (which holds a reply several times over,
    // 70 MB got it OOM-killed at 1 GiB) survives to print it and /dev/zero is refused quickly
    writeFileSync(join(cli.home, "config.toml"), '[caps]\nagentOutputBytes = "8M"\ntransferBytes = "256M"\n');
    await cli.ok(["init", "--pool-size", "16G"]);

    const results = join(fixture.dir, "results");
    // one task at a time: the flood's opencode holds a 12 MB reply several times over, and beside
    // the 3 GB patch on a loaded CI machine it once ended "failed" before printing it (cause not
    // yet found; the reason is now in the assertion's message)
    const plan = fixture.plan(stubPlanToml({ repo: fixture.repo, stubUrl: fixture.stub.url, tasks: ["flood", "bigpatch", "survivor"], keyEnv: "AGENTISO_TEST_KEY", maxParallel: 1 }));
    const run = await cli.run(["orchestrate", plan, "--results", results], { timeoutMs: 1_200_000 });
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
    const byName = Object.fromEntries(report.tasks.map((t) => [t.name, t]));
    const events = (task: string) => (existsSync(join(results, `${task}.events.ndjson`)) ? readFileSync(join(results, `${task}.events.ndjson`), "utf8").split("\n").map((l) => l.slice(0, 600)).join("\n").slice(0, 6000) : "");
    assert.equal(byName["flood"]!.status, "error", `${byName["flood"]!.reason}\n${events("flood")}`);
    assert.match(byName["flood"]!.reason, /^TOO_LARGE: opencode's output in task flood is too large: \d+ bytes or more, over the cap of 8388608 bytes \(the cap is \[caps\] agentOutputBytes/);
    assert.equal(byName["bigpatch"]!.status, "error", events("bigpatch"));
    assert.match(byName["bigpatch"]!.reason, /^TOO_LARGE: the patch of task bigpatch is too large: \d+ bytes or more, over the cap of 16777216 bytes \(the cap is \[caps\] patchBytes/);
    assert.equal(byName["survivor"]!.status, "succeeded", byName["survivor"]!.reason);
    assert.match(byName["survivor"]!.patch, /ONE by survivor/, "nothing lost: the other task's patch is whole");

    // the MCP session owns the workspace it downloads from; the CLI (host root) sees it too
    await using mcp = await unixHttpClient(join(cli.home, "agentiso.sock"));
    await mcp.call("workspace_create", { name: "secc-dl", image: "base", memory: "256M" });
    await cli.ok(["ws", "exec", "secc-dl", "--", "sh", "-c", "truncate -s 100T /big && ln -s /dev/zero /zero && echo small > /small"]);
    // what the agent runs writes to a socket: no process in the workspace can reopen it by /proc/PID/fd/1
    const reopen = await cli.run(["ws", "exec", "secc-dl", "--", "sh", "-c", "sleep 5 & yes > /proc/$!/fd/1"]);
    assert.notEqual(reopen.code, 0);
    assert.match(reopen.stderr + reopen.stdout, /No such device or address/);
    const sparse = await mcp.fails("file_transfer", { workspace: "secc-dl", direction: "download", hostPath: "big", workspacePath: "/big" });
    assert.equal(sparse.code, "TOO_LARGE");
    assert.match(sparse.text, /the workspace file \/big is too large: 109951162777600 bytes or more, over the cap of 268435456 bytes/);
    const zero = await mcp.fails("file_transfer", { workspace: "secc-dl", direction: "download", hostPath: "zero", workspacePath: "/zero" });
    assert.equal(zero.code, "TOO_LARGE");
    assert.match(zero.text, /the workspace file \/zero is too large: 268435457 bytes or more/);
    const small = await mcp.call<{ bytes: number }>("file_transfer", { workspace: "secc-dl", direction: "download", hostPath: "small", workspacePath: "/small" });
    assert.equal(small.bytes, 6, "a file under the cap still downloads");
    const transferDir = join(cli.home, "transfer");
    // files only: the MCP session's own transfer subdirectory is there too
    const left = existsSync(transferDir) ? readdirSync(transferDir, { recursive: true }).map(String).filter((f) => !f.endsWith("small") && !statSync(join(transferDir, f)).isDirectory()) : [];
    assert.deepEqual(left, [], "no partial download stays in the transfer dir");

    const copy = await cli.run(["ws", "cp", "secc-dl:/big", join(fixture.dir, "big-copy")]);
    assert.equal(copy.code, 12, copy.stderr);
    assert.match(copy.stderr, /TOO_LARGE|too large: 109951162777600 bytes/);
    assert.ok(!existsSync(join(fixture.dir, "big-copy")));

    // tini's stdout is the console log, a host file of host root: /proc/1/fd/1 reopens it with the
    // file's own permissions, so the workspace cannot write it (what the agent logs rotates: unit tests)
    const console1 = await cli.run(["ws", "exec", "secc-dl", "--", "sh", "-c", "yes > /proc/1/fd/1"]);
    assert.notEqual(console1.code, 0);
    assert.match(console1.stderr + console1.stdout, /Permission denied/);

    const memory = memoryOf(cli.daemonPid()!);
    console.log(`daemon memory after the floods: VmRSS ${memory.rssMiB} MiB, VmHWM (peak) ${memory.peakMiB} MiB`);
    assert.ok(memory.peakMiB < MAX_DAEMON_RSS_MIB, `the daemon peaked at ${memory.peakMiB} MiB`);
    assert.equal(await cli.ok(["ws", "exec", "secc-dl", "--", "echo", "still-here"]), "still-here\n", "the daemon and the workspace still answer");
    await cli.ok(["ws", "destroy", "secc-dl"]);
  });
});
