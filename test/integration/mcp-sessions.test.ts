// Session ownership through `agentiso serve`: a second session can neither see nor touch the
// first one's workspace, and ownership survives a daemon restart (it lives in SQLite).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { stdioClient, type McpTestClient } from "./mcp-clients.js";
import { realDaemonSkip } from "./mcp-tool-suite.js";

describe("MCP session ownership", { skip: realDaemonSkip, timeout: 600_000 }, () => {
  let cli: CliHarness;
  let owner: McpTestClient;
  let other: McpTestClient;
  let wsId: string;

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness();
    await cli.ok(["init", "--pool-size", "8G"]);
    owner = await stdioClient(cli, "agent-a");
    other = await stdioClient(cli);
    wsId = (await owner.call<{ id: string }>("workspace_create", { name: "owned", image: "base", memory: "128M" })).id;
  });
  after(async () => {
    await owner?.[Symbol.asyncDispose]();
    await other?.[Symbol.asyncDispose]();
    await cli?.[Symbol.asyncDispose]();
  });

  test("another session neither lists nor reaches the workspace, by name or by id", async () => {
    assert.deepEqual(await other.call("workspace_list"), []);
    for (const ref of ["owned", wsId]) {
      for (const [tool, args] of [
        ["workspace_info", {}],
        ["exec", { command: "true" }],
        ["file_read", { path: "/etc/hostname" }],
        ["snapshot", { action: "list" }],
        ["workspace_stop", {}],
        ["workspace_destroy", {}],
      ] as const) {
        assert.equal((await other.fails(tool, { workspace: ref, ...args })).code, "NOT_FOUND", `${tool} ${ref}`);
      }
    }
    assert.equal((await other.fails("workspace_fork", { workspace: "owned", snapshot: "s" })).code, "NOT_FOUND");
    assert.equal((await other.fails("workspace_adopt", { workspace: "owned" })).code, "NOT_FOUND");
    assert.equal((await owner.call<{ state: string }>("workspace_info", { workspace: "owned" })).state, "running");
  });

  test("orchestrate naming another session's workspace as its golden is NOT_FOUND, and no answer tells that workspace's name", async () => {
    await owner.call("snapshot", { workspace: "owned", action: "create", name: "golden" });
    const plan = (workspace: string) => ({ golden: { workspace, snapshot: "golden" }, task: [{ name: "t1", prompt: "say hi" }] });
    for (const ref of [wsId, "owned"]) {
      const failure = await other.fails("orchestrate", { plan: plan(ref), baseDir: ".", resultsDir: "results" });
      assert.equal(failure.code, "NOT_FOUND", failure.text);
      const missing = await other.fails("orchestrate", { plan: plan("no-such-ws"), baseDir: ".", resultsDir: "results" });
      assert.equal(failure.text.replaceAll(JSON.stringify(ref), '"REF"'), missing.text.replaceAll('"no-such-ws"', '"REF"'), "worded exactly as for a workspace that does not exist");
    }
    for (const [tool, args] of [
      ["orchestrate", { plan: plan(wsId), baseDir: ".", resultsDir: "results" }],
      ["workspace_adopt", { workspace: wsId }],
      ["workspace_info", { workspace: wsId }],
      ["workspace_fork", { workspace: wsId, snapshot: "golden" }],
    ] as const) {
      const failure = await other.fails(tool, args);
      assert.doesNotMatch(failure.text, /\bowned\b/, `${tool} does not reveal the name`);
    }
    const parallel = await other.call<Array<{ ok: boolean; error?: { code: string; message: string } }>>("exec_parallel", { runs: [{ workspace: wsId, command: "true" }] });
    assert.equal(parallel[0]!.error?.code, "NOT_FOUND");
    assert.doesNotMatch(parallel[0]!.error!.message, /\bowned\b/);
    assert.deepEqual(await other.call("workspace_list"), [], "B created no golden, worker or fork");
    assert.deepEqual((await owner.call<Array<{ name: string }>>("workspace_list")).map((w) => w.name), ["owned"]);
    await owner.call("snapshot", { workspace: "owned", action: "delete", name: "golden" });
  });

  test("after `agentiso daemon stop` the owner's next call restarts the daemon and still owns the workspace", async () => {
    const pidBefore = cli.daemonPid();
    await cli.ok(["daemon", "stop"]);
    assert.deepEqual((await owner.call<Array<{ id: string }>>("workspace_list")).map((w) => w.id), [wsId]);
    assert.notEqual(cli.daemonPid(), pidBefore, "a new daemon answered");
    await using sameSessionLater = await stdioClient(cli, "agent-a");
    assert.equal((await sameSessionLater.call<{ stdout: string }>("exec", { workspace: "owned", command: "echo still mine" })).stdout, "still mine\n");
    assert.deepEqual(await other.call("workspace_list"), []);
    await owner.call("workspace_destroy", { workspace: "owned" });
  });
});
