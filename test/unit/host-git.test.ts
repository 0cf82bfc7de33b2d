// host-git: the one way the daemon runs git on host repositories. A patch written by a worker
// lands as a branch in a husky-style repository (core.hooksPath into tracked files, a filter
// driver and an fsmonitor in its config) and nothing of it runs; the same patch through a plain
// `git worktree add` + `git commit` (what merge.ts used to do) does run the planted hook. An
// untrusted repository from a transfer directory may not lead git anywhere else.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleAll, commitPatchOnBranch, hostGit, openHostRepo } from "../../src/core/host-git.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { runCommand } from "../../src/core/run-command.js";

const AUTHOR = { name: "agentiso", email: "agentiso@localhost" };

function scratch(): { dir: string } & Disposable {
  const dir = mkdtempSync(join(tmpdir(), "seca-host-git-"));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

const git = async (cwd: string, ...args: string[]) => (await runCommand(["git", "-C", cwd, "-c", "user.email=t@agentiso", "-c", "user.name=t", ...args])).stdout.trim();
// How the test itself looks into the husky repo without setting off its hooks and fsmonitor.
const inspect = (cwd: string, ...args: string[]) => git(cwd, "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", ...args);

// A repository whose hooks live in tracked files (husky), with a filter driver, an fsmonitor
// and every hook git knows pointing at a marker writer. Returns the base commit.
async function huskyRepo(repo: string, markers: string): Promise<string> {
  mkdirSync(join(repo, ".husky"), { recursive: true });
  writeFileSync(join(repo, "a.txt"), "one\n");
  const hook = (name: string) => `#!/bin/sh\ntouch ${markers}/hook-${name}\n`;
  for (const name of ["pre-commit", "post-checkout", "post-commit", "commit-msg", "reference-transaction", "post-index-change", "pre-auto-gc", "post-rewrite"]) {
    writeFileSync(join(repo, ".husky", name), hook(name));
    chmodSync(join(repo, ".husky", name), 0o755);
  }
  await runCommand(["git", "init", "-q", "-b", "main", repo]);
  await git(repo, "add", "-A");
  await git(repo, "-c", "core.hooksPath=/dev/null", "commit", "-qm", "initial");
  await git(repo, "config", "core.hooksPath", ".husky");
  await git(repo, "config", "filter.evil.clean", `touch ${markers}/filter-clean; cat`);
  await git(repo, "config", "filter.evil.smudge", `touch ${markers}/filter-smudge; cat`);
  await git(repo, "config", "diff.evil.textconv", `touch ${markers}/textconv; cat`);
  await git(repo, "config", "core.fsmonitor", `touch ${markers}/fsmonitor; false`);
  return git(repo, "rev-parse", "HEAD");
}

// The worker's patch: its hook rewritten to write a marker, every file given the filter driver.
async function hostilePatch(repo: string, markers: string, dir: string): Promise<string> {
  const worker = join(dir, "worker");
  await runCommand(["git", "clone", "-q", repo, worker]);
  writeFileSync(join(worker, "a.txt"), "ONE by the worker\n");
  writeFileSync(join(worker, ".husky", "pre-commit"), `#!/bin/sh\ntouch ${markers}/planted-pre-commit\n`);
  writeFileSync(join(worker, ".husky", "reference-transaction"), `#!/bin/sh\ntouch ${markers}/planted-reference-transaction\n`);
  writeFileSync(join(worker, ".gitattributes"), "* filter=evil diff=evil\n");
  writeFileSync(join(worker, "bin.dat"), Buffer.from([0, 1, 2, 255]));
  await git(worker, "-c", "core.hooksPath=/dev/null", "add", "-A");
  return (await runCommand(["git", "-C", worker, "-c", "core.hooksPath=/dev/null", "diff", "--cached", "--binary", "HEAD"])).stdout;
}

describe("host-git", () => {
  test("a patch that rewrites a husky hook and selects a filter driver becomes a branch; no hook, filter or fsmonitor runs", async () => {
    using tmp = scratch();
    const markers = join(tmp.dir, "markers");
    mkdirSync(markers);
    const repoDir = join(tmp.dir, "repo");
    const base = await huskyRepo(repoDir, markers);
    const patch = await hostilePatch(repoDir, markers, tmp.dir);
    const before = await inspect(repoDir, "status", "--porcelain");
    assert.deepEqual(readdirSync(markers), []);

    const repo = await openHostRepo(repoDir);
    const commit = await commitPatchOnBranch(repo, { base, branch: "agentiso/g/edit-hook", patch, message: ["agentiso: edit-hook", "the summary"], author: AUTHOR });

    assert.deepEqual(readdirSync(markers), [], "nothing of the worker's and no configured hook, driver or fsmonitor ran");
    assert.equal(await inspect(repoDir, "rev-parse", "agentiso/g/edit-hook"), commit);
    assert.equal(await inspect(repoDir, "show", "agentiso/g/edit-hook:a.txt"), "ONE by the worker");
    assert.match(await inspect(repoDir, "show", "agentiso/g/edit-hook:.husky/pre-commit"), /planted-pre-commit/);
    assert.equal(await inspect(repoDir, "rev-parse", "agentiso/g/edit-hook^"), base);
    assert.equal(await inspect(repoDir, "log", "-1", "--format=%an <%ae>|%B", "agentiso/g/edit-hook"), "agentiso <agentiso@localhost>|agentiso: edit-hook\n\nthe summary");
    assert.equal(await inspect(repoDir, "status", "--porcelain"), before, "the user's work tree and index are untouched");
    assert.equal(await inspect(repoDir, "rev-parse", "--abbrev-ref", "HEAD"), "main");

    const again = await commitPatchOnBranch(repo, { base, branch: "agentiso/g/edit-hook", patch, message: ["x"], author: AUTHOR }).catch((err: unknown) => err);
    assert.ok(isAgentisoError(again, "CONFLICT"), "an existing branch is not overwritten");
    const broken = await commitPatchOnBranch(repo, { base, branch: "agentiso/g/broken", patch: "diff --git a/nope b/nope\n--- a/nope\n+++ b/nope\n@@ -1 +1 @@\n-x\n+y\n", message: ["x"], author: AUTHOR }).catch((err: unknown) => err);
    assert.ok(isAgentisoError(broken, "CONFLICT"));
    assert.match((broken as Error).message, /patch does not apply/);
    assert.deepEqual(readdirSync(markers), []);
  });

  test("the attack is real: the old merge (git worktree add + git commit in the repo) runs the hook the patch planted", async () => {
    using tmp = scratch();
    const markers = join(tmp.dir, "markers");
    mkdirSync(markers);
    const repoDir = join(tmp.dir, "repo");
    const base = await huskyRepo(repoDir, markers);
    const patch = await hostilePatch(repoDir, markers, tmp.dir);
    writeFileSync(join(tmp.dir, "task.patch"), patch);
    const worktree = join(tmp.dir, "wt");
    await runCommand(["git", "-C", repoDir, "worktree", "add", "--quiet", "-b", "old-way", worktree, base]);
    await runCommand(["git", "-C", worktree, "apply", "--index", "--binary", join(tmp.dir, "task.patch")]);
    await runCommand(["git", "-c", "user.name=a", "-c", "user.email=a@b", "-C", worktree, "commit", "--quiet", "-m", "old"], { check: false });
    assert.ok(existsSync(join(markers, "planted-pre-commit")), `the planted hook ran as this user: ${readdirSync(markers).join(", ")}`);
  });

  test("a trusted linked worktree (.git file) is followed; its branch lands in the main repository", async () => {
    using tmp = scratch();
    const main = join(tmp.dir, "main");
    mkdirSync(main);
    writeFileSync(join(main, "f.txt"), "x\n");
    await runCommand(["git", "init", "-q", "-b", "main", main]);
    await git(main, "add", "-A");
    await git(main, "commit", "-qm", "init");
    const linked = join(tmp.dir, "linked");
    await git(main, "worktree", "add", "-q", "-b", "side", linked);
    const repo = await openHostRepo(linked);
    assert.notEqual(repo.gitDir, repo.commonDir);
    const bundle = join(tmp.dir, "b.bundle");
    await bundleAll(repo, bundle);
    assert.match((await runCommand(["git", "bundle", "list-heads", bundle])).stdout, /refs\/heads\/side/);
  });

  test("a partial clone whose promisor remote is `ext::sh -c ...` cannot make git run it (lazy fetch), even with protocol.ext.allow in its config", async () => {
    using tmp = scratch();
    const marker = join(tmp.dir, "PWNED");
    const repo = join(tmp.dir, "partial");
    mkdirSync(repo);
    writeFileSync(join(repo, "a"), "a\n");
    await runCommand(["git", "init", "-q", repo]);
    await git(repo, "add", "a");
    await git(repo, "commit", "-qm", "a");
    const tree = await git(repo, "rev-parse", "HEAD^{tree}");
    for (const [key, value] of [["core.repositoryformatversion", "1"], ["extensions.partialClone", "origin"], ["remote.origin.promisor", "true"], ["remote.origin.url", `ext::sh -c touch% ${marker}`], ["protocol.ext.allow", "always"]]) {
      await git(repo, "config", key!, value!);
    }
    rmSync(join(repo, ".git", "objects", tree.slice(0, 2), tree.slice(2)));
    await runCommand(["git", "-C", repo, "bundle", "create", join(tmp.dir, "plain.bundle"), "--all"], { check: false });
    assert.ok(existsSync(marker), "the attack is real: plain git runs the promisor remote's command");
    rmSync(marker);
    const bundled = await bundleAll(await openHostRepo(repo), join(tmp.dir, "b.bundle")).catch((err: unknown) => err);
    assert.ok(bundled instanceof Error && /transport 'ext' not allowed/.test(bundled.message), String(bundled));
    assert.ok(!existsSync(marker), "host-git allows no transport, so the lazy fetch runs nothing");
    const confined = await openHostRepo(repo, { confinedTo: tmp.dir }).catch((err: unknown) => err);
    assert.ok(isAgentisoError(confined, "PERMISSION_DENIED") && /partial clone/.test(confined.message), String(confined));
  });

  describe("a repository from a transfer directory (confined)", () => {
    async function confinedRepo(root: string, name = "repo"): Promise<string> {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "README.md"), `${dir}\n`);
      await runCommand(["git", "init", "-q", "-b", "main", dir]);
      await git(dir, "add", "-A");
      await git(dir, "commit", "-qm", "init");
      return dir;
    }
    const refused = async (path: string, root: string, pattern: RegExp) => {
      const err = await openHostRepo(path, { confinedTo: root }).catch((e: unknown) => e);
      assert.ok(isAgentisoError(err, "PERMISSION_DENIED"), `refused: ${String(err)}`);
      assert.match((err as Error).message, pattern);
    };

    test("a plain repository and a bare one are accepted and bundled", async () => {
      using tmp = scratch();
      const dir = await confinedRepo(tmp.dir);
      const bundle = join(tmp.dir, "out.bundle");
      await bundleAll(await openHostRepo(dir, { confinedTo: tmp.dir }), bundle);
      assert.match((await runCommand(["git", "bundle", "list-heads", bundle])).stdout, /refs\/heads\/main/);
      await runCommand(["git", "clone", "-q", "--bare", dir, join(tmp.dir, "bare.git")]);
      assert.ok((await openHostRepo(join(tmp.dir, "bare.git"), { confinedTo: tmp.dir })).gitDir.endsWith("bare.git"));
    });

    test("the `.git` gitdir trick, a .git symlink, commondir, alternates, symlinked refs and config includes are refused", async () => {
      using tmp = scratch();
      const secret = await confinedRepo(join(tmp.dir, "elsewhere"), "secret");
      const root = join(tmp.dir, "transfer");
      mkdirSync(join(root, "trick"), { recursive: true });
      writeFileSync(join(root, "trick", ".git"), `gitdir: ${secret}/.git\n`);
      await refused(join(root, "trick"), root, /\.git is a file \(gitdir: \.\.\.\).*anywhere on the host/);
      mkdirSync(join(root, "link"));
      symlinkSync(join(secret, ".git"), join(root, "link", ".git"));
      await refused(join(root, "link"), root, /is a symlink/);

      const common = await confinedRepo(root, "common");
      writeFileSync(join(common, ".git", "commondir"), `${secret}/.git\n`);
      await refused(common, root, /commondir/);
      const alternates = await confinedRepo(root, "alternates");
      writeFileSync(join(alternates, ".git", "objects", "info", "alternates"), `${secret}/.git/objects\n`);
      await refused(alternates, root, /borrows objects/);
      const refs = await confinedRepo(root, "refs");
      symlinkSync(join(secret, ".git", "refs", "heads"), join(refs, ".git", "refs", "stolen"));
      await refused(refs, root, /refs\/stolen is a symlink/);
      const include = await confinedRepo(root, "include");
      await git(include, "config", "include.path", "/root/.gitconfig");
      await refused(include, root, /includes other config files/);
      const includeIf = await confinedRepo(root, "include-if");
      await git(includeIf, "config", "includeIf.gitdir:/.path", "/etc/gitconfig");
      await refused(includeIf, root, /includes other config files/);
      const fifo = await confinedRepo(root, "fifo");
      await runCommand(["mkfifo", join(fifo, ".git", "packed-refs")]);
      await refused(fifo, root, /packed-refs is not a regular file/);
    });

    test("alternates added after the check (a race) do not pull another repository's objects into the bundle", async () => {
      using tmp = scratch();
      const secret = await confinedRepo(join(tmp.dir, "elsewhere"), "secret");
      const secretHead = await git(secret, "rev-parse", "HEAD");
      const root = join(tmp.dir, "transfer");
      const dir = await confinedRepo(root);
      const repo = await openHostRepo(dir, { confinedTo: root });
      writeFileSync(join(dir, ".git", "objects", "info", "alternates"), `${secret}/.git/objects\n`);
      writeFileSync(join(dir, ".git", "refs", "heads", "stolen"), `${secretHead}\n`);
      writeFileSync(join(dir, ".git", "commondir"), `${secret}/.git\n`);
      const naive = join(tmp.dir, "naive.bundle");
      await runCommand(["git", "-c", "safe.directory=*", "-C", dir, "bundle", "create", naive, "--all"]);
      assert.match((await runCommand(["git", "bundle", "list-heads", naive])).stdout, new RegExp(secretHead), "plain git would ship the other repository");
      const bundle = join(tmp.dir, "out.bundle");
      const result = await bundleAll(repo, bundle).catch((err: unknown) => err);
      assert.ok(result instanceof Error, "the secret commit is not readable through the repo");
      assert.ok(!existsSync(bundle) || !(await runCommand(["git", "bundle", "list-heads", bundle], { check: false })).stdout.includes(secretHead));
    });

    test("hostGit scrubs the environment: no global config, no system config, GIT_DIR pinned", async () => {
      using tmp = scratch();
      const dir = await confinedRepo(tmp.dir);
      const repo = await openHostRepo(dir, { confinedTo: tmp.dir });
      const shown = (await hostGit(repo, ["config", "--show-origin", "--list"])).stdout;
      assert.doesNotMatch(shown, /file:\/etc\/gitconfig|file:\/root\/\.gitconfig/);
      assert.match(shown, /command line:\s+core.hookspath=\/dev\/null/);
      assert.equal((await hostGit(repo, ["rev-parse", "--absolute-git-dir"])).stdout.trim(), join(dir, ".git"));
    });
  });
});
