// Every MCP tool against the real daemon (runc + btrfs + the base image), good and bad
// arguments, over whichever transport `connect` opens. Run by mcp-stdio.test.ts and
// mcp-http.test.ts. Keeps to one main workspace plus short-lived forks (2 cores).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { sessionTransferDir } from "../../src/core/host-paths.js";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import type { McpTestClient } from "./mcp-clients.js";

export const realDaemonSkip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("git"));

interface Ws {
  id: string;
  name: string;
  state: string;
  owner?: string;
}

// A host git repo with one commit, inside dir.
export async function makeHostRepo(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "README.md"), "hello from the host\n");
  const git = (...args: string[]) => runCommand(["git", "-C", dir, "-c", "user.email=t@agentiso", "-c", "user.name=t", ...args]);
  await git("init", "-q", "-b", "main");
  await git("add", ".");
  await git("commit", "-qm", "initial");
}

// connect opens a client acting as `session`; the suite finds that session's transfer directory from it.
export function describeToolSuite(title: string, connect: (cli: CliHarness, session: string) => Promise<McpTestClient>, extraEnv: NodeJS.ProcessEnv = {}): void {
  describe(title, { skip: realDaemonSkip, timeout: 1_200_000 }, () => {
    let cli: CliHarness;
    let mcp: McpTestClient;
    const ws = `mcp-${randomBytes(3).toString("hex")}`;
    const session = `suite-${randomBytes(3).toString("hex")}`;
    const transferOf = (home: string) => sessionTransferDir(join(home, "transfer"), session);

    before(async () => {
      await ensureImage("base");
      cli = new CliHarness(extraEnv);
      await cli.ok(["init", "--pool-size", "8G"]);
      mcp = await connect(cli, session);
    });
    after(async () => {
      await mcp?.[Symbol.asyncDispose]();
      await cli?.[Symbol.asyncDispose]();
    });

    test("workspace_create starts a workspace this session then lists, describes and logs", async () => {
      const created = await mcp.call<Ws>("workspace_create", { name: ws, image: "base", memory: "256M" });
      assert.equal(created.state, "running");
      assert.ok(created.owner, "the workspace belongs to the session");
      assert.deepEqual((await mcp.call<Ws[]>("workspace_list")).map((w) => w.name), [ws]);
      const info = await mcp.call<Ws & { memoryMiB: number; snapshots: unknown[] }>("workspace_info", { workspace: ws });
      assert.equal(info.memoryMiB, 256);
      assert.deepEqual(info.snapshots, []);
      assert.equal(typeof (await mcp.call<{ log: string }>("workspace_logs", { workspace: ws, maxBytes: 4096 })).log, "string");
    });

    test("exec returns output and exit codes as results; set_env reaches later commands", async () => {
      const ok = await mcp.call<{ exitCode: number; stdout: string }>("exec", { workspace: ws, command: "echo hi; uname -s", workdir: "/tmp" });
      assert.deepEqual([ok.exitCode, ok.stdout], [0, "hi\nLinux\n"]);
      const failed = await mcp.call<{ exitCode: number; stderr: string }>("exec", { workspace: ws, argv: ["sh", "-c", "echo no >&2; exit 3"] });
      assert.deepEqual([failed.exitCode, failed.stderr], [3, "no\n"]);
      assert.deepEqual(await mcp.call("set_env", { workspace: ws, vars: { TOKEN: "s3cr3t" } }), { workspace: ws, set: ["TOKEN"], unset: [] });
      assert.equal((await mcp.call<{ stdout: string }>("exec", { workspace: ws, command: "echo $TOKEN" })).stdout, "s3cr3t\n");
    });

    test("exec_background starts, polls and kills a job; exec_parallel answers per entry", async () => {
      const job = await mcp.call<{ jobId: string }>("exec_background", { workspace: ws, action: "start", command: "echo started; sleep 300" });
      const polled = await mcp.call<{ running: boolean }>("exec_background", { workspace: ws, action: "poll", jobId: job.jobId });
      assert.equal(polled.running, true);
      await mcp.call("exec_background", { workspace: ws, action: "kill", jobId: job.jobId, signal: "SIGKILL" });
      const jobs = await mcp.call<Array<{ jobId: string; command: string }>>("exec_background", { workspace: ws, action: "list" });
      assert.ok(jobs.some((j) => j.jobId === job.jobId));
      assert.equal((await mcp.fails("exec_background", { workspace: ws, action: "poll" })).code, "INVALID_INPUT");
      const runs = await mcp.call<Array<{ ok: boolean; result?: { stdout: string }; error?: { code: string } }>>("exec_parallel", {
        runs: [
          { workspace: ws, command: "echo one" },
          { workspace: ws, command: "echo two" },
          { workspace: "no-such-ws", command: "true" },
        ],
      });
      assert.deepEqual(runs.map((r) => r.ok), [true, true, false]);
      assert.equal(runs[1]!.result!.stdout, "two\n");
      assert.equal(runs[2]!.error!.code, "NOT_FOUND");
    });

    test("file_write, file_read, file_edit and file_list work on workspace files", async () => {
      await mcp.call("file_write", { workspace: ws, path: "/work/notes/a.txt", content: "alpha beta\n" });
      await mcp.call("file_edit", { workspace: ws, path: "/work/notes/a.txt", oldText: "beta", newText: "gamma" });
      assert.equal((await mcp.call<{ content: string }>("file_read", { workspace: ws, path: "/work/notes/a.txt" })).content, "alpha gamma\n");
      const binary = Buffer.from([0, 1, 2, 255]).toString("base64");
      await mcp.call("file_write", { workspace: ws, path: "/work/notes/b.bin", content: binary, encoding: "base64" });
      assert.equal((await mcp.call<{ content: string }>("file_read", { workspace: ws, path: "/work/notes/b.bin", encoding: "base64" })).content, binary);
      const listing = await mcp.call<{ entries: Array<{ name: string }> }>("file_list", { workspace: ws, path: "/work/notes" });
      assert.deepEqual(listing.entries.map((e) => e.name).sort(), ["a.txt", "b.bin"]);
      assert.match((await mcp.fails("file_edit", { workspace: ws, path: "/work/notes/a.txt", oldText: "zeta", newText: "x" })).code, /NOT_FOUND|INVALID_INPUT|CONFLICT/);
    });

    test("file_transfer moves files through the session's own transfer dir, and `..`, another session's dir or a symlink cannot leave it", async () => {
      const transfer = transferOf(cli.home);
      mkdirSync(transfer, { recursive: true });
      writeFileSync(join(transfer, "in.txt"), "from host\n");
      await mcp.call("file_transfer", { workspace: ws, direction: "upload", hostPath: "in.txt", workspacePath: "/work/in.txt" });
      assert.equal((await mcp.call<{ stdout: string }>("exec", { workspace: ws, command: "cat /work/in.txt" })).stdout, "from host\n");
      await mcp.call("file_transfer", { workspace: ws, direction: "download", hostPath: "out/copy.txt", workspacePath: "/work/notes/a.txt" });
      symlinkSync("/etc", join(transfer, "escape"));
      const otherSession = sessionTransferDir(join(cli.home, "transfer"), "someone-else");
      mkdirSync(otherSession, { recursive: true });
      writeFileSync(join(otherSession, "theirs.txt"), "not yours\n");
      for (const hostPath of ["../config.toml", "/etc/passwd", "escape/passwd", "out/../../state.db", join(otherSession, "theirs.txt"), "../someone-else/theirs.txt"]) {
        const failure = await mcp.fails("file_transfer", { workspace: ws, direction: "upload", hostPath, workspacePath: "/work/x" });
        assert.equal(failure.code, "PERMISSION_DENIED", hostPath);
      }
      assert.equal((await mcp.fails("file_transfer", { workspace: ws, direction: "download", hostPath: "escape/evil", workspacePath: "/etc/hostname" })).code, "PERMISSION_DENIED");
    });

    test("git_clone copies a host repo in; git_status, git_diff and git_commit follow changes", async () => {
      const repo = join(transferOf(cli.home), "repo");
      await makeHostRepo(repo);
      const cloned = await mcp.call<{ commit: string }>("git_clone", { workspace: ws, hostPath: "repo", dest: "/src/repo" });
      assert.match(cloned.commit, /^[0-9a-f]{40}$/);
      assert.equal((await mcp.call<{ clean: boolean; branch: string }>("git_status", { workspace: ws, path: "/src/repo" })).clean, true);
      await mcp.call("file_write", { workspace: ws, path: "/src/repo/README.md", content: "changed in the workspace\n" });
      await mcp.call("file_write", { workspace: ws, path: "/src/repo/new.txt", content: "new\n" });
      const status = await mcp.call<{ clean: boolean; branch: string; files: Array<{ path: string }> }>("git_status", { workspace: ws, path: "/src/repo" });
      assert.equal(status.branch, "main");
      assert.deepEqual(status.files.map((f) => f.path).sort(), ["README.md", "new.txt"]);
      const diff = await mcp.call<{ patch: string }>("git_diff", { workspace: ws, path: "/src/repo" });
      assert.match(diff.patch, /\+changed in the workspace/);
      assert.match(diff.patch, /new file mode/);
      const commit = await mcp.call<{ committed: boolean; commit: string }>("git_commit", { workspace: ws, path: "/src/repo", message: "work" });
      assert.equal(commit.committed, true);
      assert.notEqual(commit.commit, cloned.commit);
      assert.equal((await mcp.call<{ committed: boolean }>("git_commit", { workspace: ws, path: "/src/repo", message: "nothing" })).committed, false);
      assert.equal((await mcp.fails("git_clone", { workspace: ws, hostPath: "/etc", dest: "/src/etc" })).code, "PERMISSION_DENIED");
      assert.equal((await mcp.fails("git_status", { workspace: ws, path: "/tmp" })).code, "INVALID_STATE");
    });

    test("snapshot create/list/restore/delete, workspace_fork with count and workspace_batch_fork", async () => {
      await mcp.call("snapshot", { workspace: ws, action: "create", name: "s1" });
      assert.deepEqual((await mcp.call<Array<{ name: string }>>("snapshot", { workspace: ws, action: "list" })).map((s) => s.name), ["s1"]);
      const forks = await mcp.call<Ws[]>("workspace_fork", { workspace: ws, snapshot: "s1", count: 2, namePrefix: `${ws}-f` });
      assert.equal(forks.length, 2);
      assert.equal((await mcp.call<{ stdout: string }>("exec", { workspace: forks[0]!.name, command: "cat /work/notes/a.txt" })).stdout, "alpha gamma\n");
      const batch = await mcp.call<{ workers: Array<{ id: string; name: string }> }>("workspace_batch_fork", { workspace: ws, snapshot: "s1", count: 1, namePrefix: `${ws}-w`, ttl: "30m", idleTimeout: "none" });
      assert.equal(batch.workers.length, 1);
      const worker = await mcp.call<{ lifecycle: { ttl?: { action: string }; idle?: unknown } }>("workspace_info", { workspace: batch.workers[0]!.id });
      assert.deepEqual([worker.lifecycle.ttl?.action, worker.lifecycle.idle], ["destroy", undefined], "a fork takes its own limits, not its origin's");
      assert.equal((await mcp.call<Ws[]>("workspace_list")).length, 4);
      for (const fork of [...forks, ...batch.workers]) await mcp.call("workspace_destroy", { workspace: fork.id });
      await mcp.call("exec", { workspace: ws, command: "rm /work/notes/a.txt" });
      await mcp.call("snapshot", { workspace: ws, action: "restore", name: "s1" });
      assert.equal((await mcp.call<{ stdout: string }>("exec", { workspace: ws, command: "cat /work/notes/a.txt" })).stdout, "alpha gamma\n");
      await mcp.call("snapshot", { workspace: ws, action: "delete", name: "s1" });
      assert.deepEqual(await mcp.call("snapshot", { workspace: ws, action: "list" }), []);
    });

    test("workspace_lifecycle shows the MCP defaults (idle 2 h → stop, 24 h → destroy) and changes them; workspace_pause freezes (exec CONFLICT), workspace_resume thaws", async () => {
      type Lifecycle = { ttl?: { action: string; at: string }; idle?: { action: string; timeoutSeconds: number; at?: string } };
      const info = await mcp.call<Ws & { createdAt: string; lifecycle: Lifecycle }>("workspace_info", { workspace: ws });
      assert.deepEqual([info.lifecycle.idle?.action, info.lifecycle.idle?.timeoutSeconds, info.lifecycle.ttl?.action], ["stop", 7200, "destroy"]);
      assert.equal(Date.parse(info.lifecycle.ttl!.at) - Date.parse(info.createdAt), 24 * 3600 * 1000);
      const changed = await mcp.call<Ws & { lifecycle: Lifecycle }>("workspace_lifecycle", { workspace: ws, ttl: "48h", idleTimeout: null });
      assert.equal(changed.lifecycle.idle, undefined);
      assert.ok(Math.abs(Date.parse(changed.lifecycle.ttl!.at) - Date.now() - 48 * 3600 * 1000) < 60_000, "a new ttl counts from now");
      const bad = await mcp.fails("workspace_lifecycle", { workspace: ws, idleTimeout: "soon" });
      assert.equal(bad.code, "INVALID_INPUT");
      assert.match(bad.text, /invalid duration "soon"/);
      assert.equal((await mcp.call<Ws>("workspace_pause", { workspace: ws })).state, "paused");
      assert.deepEqual((await mcp.call<Ws[]>("workspace_list", { state: "paused" })).map((w) => w.name), [ws]);
      const refused = await mcp.fails("exec", { workspace: ws, command: "true" });
      assert.equal(refused.code, "CONFLICT");
      assert.match(refused.text, /paused: resume it first/);
      assert.equal((await mcp.call<Ws>("workspace_resume", { workspace: ws })).state, "running");
      assert.equal((await mcp.call<{ stdout: string }>("exec", { workspace: ws, command: "echo thawed" })).stdout, "thawed\n");
    });

    test("workspace_stop and workspace_start; exec on a stopped workspace says to start it", async () => {
      assert.equal((await mcp.call<Ws>("workspace_stop", { workspace: ws })).state, "stopped");
      const failure = await mcp.fails("exec", { workspace: ws, command: "true" });
      assert.equal(failure.code, "INVALID_STATE");
      assert.match(failure.text, /start/);
      assert.equal((await mcp.call<Ws>("workspace_start", { workspace: ws })).state, "running");
    });

    test("workspace_prepare clones, runs setup and snapshots golden; a failing setup reports its output and leaves nothing", async () => {
      await makeHostRepo(join(transferOf(cli.home), "prep"));
      const golden = await mcp.call<{ workspace: { id: string; name: string }; snapshot: string; commit: string }>("workspace_prepare", {
        name: `${ws}-g`,
        image: "base",
        hostPath: "prep",
        setup: ["echo deps > deps.txt", "test -f README.md"],
      });
      assert.equal(golden.snapshot, "golden");
      assert.match(golden.commit, /^[0-9a-f]{40}$/);
      assert.equal((await mcp.call<{ stdout: string }>("exec", { workspace: golden.workspace.name, command: "cat /workspace/deps.txt" })).stdout, "deps\n");
      assert.deepEqual((await mcp.call<Array<{ name: string }>>("snapshot", { workspace: golden.workspace.name, action: "list" })).map((s) => s.name), ["golden"]);
      await mcp.call("workspace_destroy", { workspace: golden.workspace.name });
      const failure = await mcp.fails("workspace_prepare", { name: `${ws}-bad`, image: "base", setup: ["echo about to fail; echo broken >&2; exit 4"] });
      assert.equal(failure.code, "INVALID_STATE");
      assert.match(failure.text, /setup command 1 .* exited with 4: about to fail\s+broken/);
      assert.deepEqual((await mcp.call<Ws[]>("workspace_list")).map((w) => w.name), [ws]);
    });

    test("bad arguments against the live daemon: wrong types, unknown workspace, oversized content; the server keeps answering", async () => {
      assert.equal((await mcp.fails("exec", { workspace: ws, command: 42 })).code, "INVALID_INPUT");
      assert.equal((await mcp.fails("exec", { workspace: ws })).code, "INVALID_INPUT");
      assert.equal((await mcp.fails("workspace_create", { name: "Bad Name!" })).code, "INVALID_INPUT");
      assert.equal((await mcp.fails("snapshot", { workspace: ws, action: "explode" })).code, "INVALID_INPUT");
      const unknown = await mcp.fails("workspace_info", { workspace: "no-such-workspace" });
      assert.equal(unknown.code, "NOT_FOUND");
      assert.match(unknown.text, /workspace_list/);
      assert.equal((await mcp.fails("file_write", { workspace: ws, path: "/big", content: "x".repeat(12 * 1024 * 1024) })).code, "INVALID_INPUT");
      assert.equal((await mcp.fails("file_read", { workspace: ws, path: "/no/such/file" })).code, "NOT_FOUND");
      assert.equal((await mcp.call<Ws[]>("workspace_list")).length, 1);
    });

    test("a message over the server's size limit (70 MiB) is answered with isError and the session goes on", async () => {
      const failure = await mcp.fails("file_write", { workspace: ws, path: "/huge", content: "x".repeat(70 * 1024 * 1024) });
      assert.equal(failure.code, "INVALID_INPUT");
      assert.match(failure.text, /over the \d+-byte limit.*file_transfer/);
      assert.equal((await mcp.call<{ stdout: string }>("exec", { workspace: ws, command: "echo alive" })).stdout, "alive\n");
    });

    test("workspace_adopt takes over a workspace created outside any session", async () => {
      const orphan = await cli.json<Ws>(["workspace", "create", "--name", `${ws}-cli`, "--memory", "128M"]);
      assert.equal((await mcp.fails("workspace_info", { workspace: orphan.id })).code, "NOT_FOUND");
      const adopted = await mcp.call<Ws>("workspace_adopt", { workspace: orphan.id });
      assert.ok(adopted.owner);
      assert.equal((await mcp.call<Ws>("workspace_info", { workspace: orphan.name })).id, orphan.id);
      await mcp.call("workspace_destroy", { workspace: orphan.name });
    });

    test("workspace_destroy removes the workspace; afterwards it is unknown", async () => {
      const id = (await mcp.call<Ws>("workspace_info", { workspace: ws })).id;
      assert.deepEqual(await mcp.call("workspace_destroy", { workspace: ws }), { destroyed: ws, id });
      assert.deepEqual(await mcp.call("workspace_list"), []);
      assert.equal((await mcp.fails("workspace_destroy", { workspace: ws })).code, "NOT_FOUND");
    });
  });
}
