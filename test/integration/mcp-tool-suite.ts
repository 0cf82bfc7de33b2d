// Every MCP tool against the real daemon (runc + btrfs + the base image), good and bad
// arguments, over whichever transport `connect` opens. Run by mcp-stdio.test.ts and
// mcp-http.test.ts. Keeps to one main workspace plus short-lived forks (2 cores).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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
      const same = await mcp.call<Array<{ workspace: string; ok: boolean; result?: { stdout: string } }>>("exec_parallel", { workspaces: [ws, ws, "no-such-ws"], command: "echo same", workdir: "/tmp" });
      assert.deepEqual(same.map((r) => [r.workspace, r.ok, r.result?.stdout]), [[ws, true, "same\n"], [ws, true, "same\n"], ["no-such-ws", false, undefined]]);
      assert.equal((await mcp.fails("exec_parallel", { workspaces: [ws], runs: [{ workspace: ws, command: "true" }], command: "true" })).code, "INVALID_INPUT");
      assert.equal((await mcp.fails("exec_parallel", { runs: [{ workspace: ws, command: "true" }], command: "true" })).code, "INVALID_INPUT");
      assert.equal((await mcp.fails("exec_parallel", { command: "true" })).code, "INVALID_INPUT");
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

    test("file_mkdir, file_stat, file_move and file_delete work on the workspace's own paths, and no path reaches the host", async () => {
      assert.deepEqual(await mcp.call("file_mkdir", { workspace: ws, path: "/work/tree/a/b" }), { path: "/work/tree/a/b", created: true });
      assert.equal((await mcp.call<{ kind: string }>("file_stat", { workspace: ws, path: "/work/tree/a" })).kind, "directory");
      assert.equal((await mcp.fails("file_mkdir", { workspace: ws, path: "/work/tree/a", recursive: false })).code, "CONFLICT");
      await mcp.call("file_write", { workspace: ws, path: "/work/tree/a/b/f.txt", content: "12345" });
      await mcp.call("file_write", { workspace: ws, path: "/work/tree/other.txt", content: "other" });
      const stat = await mcp.call<{ path: string; kind: string; sizeBytes: number; mode: number; mtimeMs: number }>("file_stat", { workspace: ws, path: "/work/tree/a/b/f.txt" });
      assert.deepEqual([stat.path, stat.kind, stat.sizeBytes, stat.mode], ["/work/tree/a/b/f.txt", "file", 5, 0o644]);
      assert.deepEqual(await mcp.call("file_move", { workspace: ws, from: "/work/tree/a/b/f.txt", to: "/work/tree/g.txt" }), { from: "/work/tree/a/b/f.txt", to: "/work/tree/g.txt" });
      assert.equal((await mcp.fails("file_move", { workspace: ws, from: "/work/tree/other.txt", to: "/work/tree/g.txt" })).code, "CONFLICT");
      await mcp.call("file_move", { workspace: ws, from: "/work/tree/other.txt", to: "/work/tree/g.txt", overwrite: true });
      await mcp.call("file_move", { workspace: ws, from: "/work/tree/g.txt", to: "/tmp/g.txt" }); // /tmp: another filesystem in a container
      assert.equal((await mcp.call<{ content: string }>("file_read", { workspace: ws, path: "/tmp/g.txt" })).content, "other");
      assert.equal((await mcp.fails("file_delete", { workspace: ws, path: "/work/tree" })).code, "CONFLICT");
      assert.deepEqual(await mcp.call("file_delete", { workspace: ws, path: "/work/tree", recursive: true }), { path: "/work/tree", deleted: true });
      assert.equal((await mcp.fails("file_stat", { workspace: ws, path: "/work/tree" })).code, "NOT_FOUND");
      for (const path of ["/", "/work/..", "relative/path"]) assert.equal((await mcp.fails("file_delete", { workspace: ws, path, recursive: true })).code, "INVALID_INPUT", path);
      assert.equal((await mcp.fails("file_move", { workspace: ws, from: "/work", to: "/work/inside" })).code, "INVALID_INPUT");
      // a file on the host, named every way that might climb out of the workspace
      const marker = `/tmp/htl-host-marker-${randomBytes(4).toString("hex")}`;
      writeFileSync(marker, "host\n");
      try {
        for (const path of [marker, `/../../../..${marker}`, `/proc/1/root${marker}`, `/proc/self/root/../../..${marker}`]) {
          assert.equal((await mcp.fails("file_stat", { workspace: ws, path })).code, "NOT_FOUND", path);
          assert.equal((await mcp.fails("file_delete", { workspace: ws, path })).code, "NOT_FOUND", path);
          assert.equal((await mcp.fails("file_move", { workspace: ws, from: path, to: "/tmp/stolen" })).code, "NOT_FOUND", path);
        }
        await mcp.call("file_write", { workspace: ws, path: "/tmp/mine.txt", content: "x" });
        await mcp.call("file_move", { workspace: ws, from: "/tmp/mine.txt", to: `/../../..${marker}` });
        assert.equal(readFileSync(marker, "utf8"), "host\n", "the host's file is untouched");
        assert.equal((await mcp.call<{ content: string }>("file_read", { workspace: ws, path: marker })).content, "x", "the workspace got a file of its own at that path");
      } finally {
        rmSync(marker, { force: true });
      }
      for (const tool of ["file_stat", "file_mkdir", "file_delete"]) assert.equal((await mcp.fails(tool, { workspace: "no-such-ws", path: "/tmp/x" })).code, "NOT_FOUND", tool);
      assert.equal((await mcp.fails("file_move", { workspace: "no-such-ws", from: "/tmp/x", to: "/tmp/y" })).code, "NOT_FOUND");
      assert.equal((await mcp.fails("file_stat", { workspace: ws, path: 7 })).code, "INVALID_INPUT");
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

    test("git_log lists commits newest first, bounded; git_checkout switches, detaches and creates branches", async () => {
      const log = await mcp.call<{ commits: Array<{ hash: string; author: string; email: string; date: string; subject: string }>; truncated: boolean }>("git_log", { workspace: ws, path: "/src/repo" });
      assert.deepEqual(log.commits.map((c) => c.subject), ["work", "initial"]);
      assert.equal(log.truncated, false);
      assert.match(log.commits[0]!.hash, /^[0-9a-f]{40}$/);
      assert.deepEqual([log.commits[0]!.author, log.commits[0]!.email], ["agentiso", "agent@agentiso.local"]);
      assert.ok(!Number.isNaN(Date.parse(log.commits[1]!.date)));
      const one = await mcp.call<{ commits: unknown[]; truncated: boolean }>("git_log", { workspace: ws, path: "/src/repo", maxCount: 1 });
      assert.deepEqual([one.commits.length, one.truncated], [1, true]);
      assert.deepEqual((await mcp.call<{ commits: Array<{ subject: string }> }>("git_log", { workspace: ws, path: "/src/repo", file: "new.txt" })).commits.map((c) => c.subject), ["work"]);
      const initial = log.commits[1]!.hash;
      assert.deepEqual(await mcp.call("git_checkout", { workspace: ws, path: "/src/repo", ref: "feature", create: true, startPoint: initial }), { branch: "feature", commit: initial });
      assert.deepEqual(await mcp.call("git_checkout", { workspace: ws, path: "/src/repo", ref: log.commits[0]!.hash }), { branch: null, commit: log.commits[0]!.hash });
      assert.deepEqual(await mcp.call("git_checkout", { workspace: ws, path: "/src/repo", ref: "main" }), { branch: "main", commit: log.commits[0]!.hash });
      assert.equal((await mcp.fails("git_checkout", { workspace: ws, path: "/src/repo", ref: "feature", create: true })).code, "INVALID_STATE", "the branch exists");
      assert.equal((await mcp.fails("git_checkout", { workspace: ws, path: "/src/repo", ref: "no-such-branch" })).code, "INVALID_STATE");
      assert.equal((await mcp.fails("git_checkout", { workspace: ws, path: "/src/repo", ref: "README.md" })).code, "INVALID_STATE", "a file name is never taken for a path to overwrite");
      for (const ref of ["--orphan=x", "-f", "main extra"]) assert.equal((await mcp.fails("git_checkout", { workspace: ws, path: "/src/repo", ref })).code, "INVALID_INPUT", ref);
      assert.equal((await mcp.fails("git_checkout", { workspace: ws, path: "/src/repo", ref: "main", startPoint: "HEAD" })).code, "INVALID_INPUT");
      assert.equal((await mcp.fails("git_log", { workspace: ws, path: "/src/repo", maxCount: 5000 })).code, "INVALID_INPUT");
      assert.equal((await mcp.fails("git_log", { workspace: ws, path: "/tmp" })).code, "INVALID_STATE");
      assert.equal((await mcp.fails("git_log", { workspace: "no-such-ws" })).code, "NOT_FOUND");
    });

    test("workspace_merge brings forks' commits and uncommitted edits into the target, per source applied or conflicted; sources stay as they were", async () => {
      await mcp.call("snapshot", { workspace: ws, action: "create", name: "m0" });
      const forks = await mcp.call<Ws[]>("workspace_fork", { workspace: ws, snapshot: "m0", count: 3, namePrefix: `${ws}-m` });
      const [edits, commits, clash] = forks.map((f) => f.name) as [string, string, string];
      try {
        await mcp.call("file_write", { workspace: edits, path: "/src/repo/README.md", content: "edited in a fork\n" });
        await mcp.call("file_write", { workspace: edits, path: "/src/repo/added.txt", content: "added\n" });
        await mcp.call("file_write", { workspace: commits, path: "/src/repo/lib.txt", content: "committed\n" });
        await mcp.call("git_commit", { workspace: commits, path: "/src/repo", message: "lib" });
        await mcp.call("file_write", { workspace: clash, path: "/src/repo/README.md", content: "a different edit\n" });
        const merged = await mcp.call<{ applied: string[]; conflicted: string[]; branch: string; results: Array<{ source: string; status: string; files: string[]; branch?: string; detail?: string }> }>("workspace_merge", {
          target: ws,
          sources: [edits, commits, clash],
          path: "/src/repo",
        });
        assert.deepEqual([merged.applied, merged.conflicted, merged.branch], [[edits, commits], [clash], "main"]);
        assert.deepEqual(merged.results.map((r) => [r.source, r.status, r.files.sort()]), [[edits, "applied", ["README.md", "added.txt"]], [commits, "applied", ["lib.txt"]], [clash, "conflicted", ["README.md"]]]);
        assert.match(merged.results[2]!.detail!, /README\.md/);
        const read = async (w: string, file: string) => (await mcp.call<{ content: string }>("file_read", { workspace: w, path: `/src/repo/${file}` })).content;
        assert.deepEqual([await read(ws, "README.md"), await read(ws, "added.txt"), await read(ws, "lib.txt")], ["edited in a fork\n", "added\n", "committed\n"]);
        const log = await mcp.call<{ commits: Array<{ subject: string }> }>("git_log", { workspace: ws, path: "/src/repo", maxCount: 5 });
        assert.equal(log.commits[0]!.subject, `merge workspace ${commits}`, "the last merge commit is on top");
        assert.ok(log.commits.some((c) => c.subject === `merge workspace ${edits}`));
        assert.equal((await mcp.call<{ clean: boolean }>("git_status", { workspace: ws, path: "/src/repo" })).clean, true, "a conflict leaves nothing behind");
        const sourceStatus = await mcp.call<{ files: Array<{ path: string; index: string }> }>("git_status", { workspace: edits, path: "/src/repo" });
        assert.deepEqual(sourceStatus.files.map((f) => [f.path, f.index]).sort(), [["README.md", " "], ["added.txt", "?"]], "the source's index is untouched");
        // cherry-pick: what the committing fork did since its merged commit (base) goes straight onto main
        const merged1 = (await mcp.call<{ commits: Array<{ hash: string }> }>("git_log", { workspace: commits, path: "/src/repo", maxCount: 1 })).commits[0]!.hash;
        await mcp.call("file_write", { workspace: commits, path: "/src/repo/lib.txt", content: "committed twice\n" });
        const picked = await mcp.call<{ applied: string[]; results: Array<{ status: string; commit: string; base: string }> }>("workspace_merge", {
          target: ws,
          sources: [commits],
          path: "/src/repo",
          strategy: "cherry-pick",
          commitMessage: "take",
          base: merged1,
        });
        assert.equal(picked.results[0]!.base, merged1);
        assert.deepEqual(picked.results.map((r) => r.status), ["applied"], JSON.stringify(picked));
        assert.equal(await read(ws, "lib.txt"), "committed twice\n");
        assert.equal((await mcp.call<{ commits: Array<{ subject: string }> }>("git_log", { workspace: ws, path: "/src/repo", maxCount: 1 })).commits[0]!.subject, `take ${commits}`);
        const again = await mcp.call<{ results: Array<{ status: string }> }>("workspace_merge", { target: ws, sources: [edits], path: "/src/repo", strategy: "cherry-pick" });
        assert.deepEqual(again.results.map((r) => r.status), ["conflicted"], "its changes are already in: they do not apply twice");
        await mcp.call("file_write", { workspace: ws, path: "/src/repo/README.md", content: "dirty\n" });
        const dirty = await mcp.fails("workspace_merge", { target: ws, sources: [edits], path: "/src/repo" });
        assert.equal(dirty.code, "INVALID_STATE");
        assert.match(dirty.text, /uncommitted changes .*README\.md/);
        await mcp.call("git_checkout", { workspace: ws, path: "/src/repo", ref: "main" });
        await mcp.call("exec", { workspace: ws, argv: ["git", "-C", "/src/repo", "checkout", "--", "README.md"] });
        assert.equal((await mcp.fails("workspace_merge", { target: ws, sources: [edits, "no-such-ws"], path: "/src/repo" })).code, "NOT_FOUND");
        assert.equal((await mcp.fails("workspace_merge", { target: ws, sources: [ws], path: "/src/repo" })).code, "INVALID_INPUT");
        assert.equal((await mcp.fails("workspace_merge", { target: ws, sources: [], path: "/src/repo" })).code, "INVALID_INPUT");
        assert.equal((await mcp.fails("workspace_merge", { target: ws, sources: [edits], strategy: "octopus" })).code, "INVALID_INPUT");
      } finally {
        for (const fork of forks) await mcp.call("workspace_destroy", { workspace: fork.id });
        await mcp.call("snapshot", { workspace: ws, action: "delete", name: "m0" });
      }
    });

    test("another session naming this session's workspace gets NOT_FOUND from every new tool", async () => {
      await using other = await connect(cli, `other-${session}`);
      const calls: Array<[string, Record<string, unknown>]> = [
        ["file_stat", { workspace: ws, path: "/etc/hostname" }],
        ["file_mkdir", { workspace: ws, path: "/tmp/theirs" }],
        ["file_delete", { workspace: ws, path: "/src/repo/README.md" }],
        ["file_move", { workspace: ws, from: "/src/repo/README.md", to: "/tmp/r" }],
        ["git_log", { workspace: ws, path: "/src/repo" }],
        ["git_checkout", { workspace: ws, path: "/src/repo", ref: "feature" }],
        ["exec_parallel", { workspaces: [ws], command: "true" }],
      ];
      for (const [tool, args] of calls) {
        const failure = tool === "exec_parallel" ? (await other.call<Array<{ error: { code: string } }>>(tool, args))[0]!.error : await other.fails(tool, args);
        assert.equal(failure.code, "NOT_FOUND", tool);
      }
      const theirs = await other.call<Ws>("workspace_create", { image: "base", memory: "128M" });
      try {
        assert.equal((await other.fails("workspace_merge", { target: theirs.name, sources: [ws] })).code, "NOT_FOUND");
        assert.equal((await other.fails("workspace_merge", { target: ws, sources: [theirs.name] })).code, "NOT_FOUND");
        assert.equal((await mcp.fails("workspace_merge", { target: ws, sources: [theirs.name] })).code, "NOT_FOUND", "and the other way round");
      } finally {
        await other.call("workspace_destroy", { workspace: theirs.id });
      }
      assert.equal((await mcp.call<{ content: string }>("file_read", { workspace: ws, path: "/src/repo/README.md" })).content, "edited in a fork\n");
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
