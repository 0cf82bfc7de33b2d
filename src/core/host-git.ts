// The one way the daemon (host root) runs git on a host repository: the bundle a golden is
// cloned from, the branches a merge writes. What a worker or an MCP session produced must not
// make git run anything: every command gets a scrubbed environment (no system or global config,
// no HOME, no pager, editor or askpass, no transport: GIT_ALLOW_PROTOCOL), an explicit GIT_DIR
// (no discovery, no `.git` file followed for untrusted repos) and command-line settings that
// outrank the repository's own — no hooks (core.hooksPath=/dev/null), no fsmonitor, no
// protocol, no signing, no auto gc.
// Patches are committed without a work tree (a private index in a scratch bare repository that
// writes into the repo's object store), so no checkout happens and no filter, diff or merge
// driver a patched .gitattributes names can run. Repositories from an MCP session's transfer
// directory are untrusted as a whole: checked to be self-contained (no symlink, no alternates,
// no commondir, no config include, no promisor remote) and read with their common dir pinned.
import { lstat, mkdir, mkdtemp, readdir, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { AgentisoError } from "./errors.js";
import { readBoundedFile } from "./host-paths.js";
import { runCommand, type RunResult } from "./run-command.js";

export interface HostRepo {
  /** The path the caller named: a work tree's top directory or a bare repository. */
  readonly path: string;
  readonly gitDir: string;
  /** Where refs and objects live (the main repository's git dir for a linked worktree). */
  readonly commonDir: string;
  /** Set for repositories an untrusted caller handed over: the directory they must stay in. */
  readonly confinedTo?: string;
}

export interface HostGitOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  input?: string | Buffer;
  /** Extra GIT_* variables (GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY...). */
  env?: Record<string, string>;
  check?: boolean;
}

/** Settings given on the command line: they outrank every config file, the repo's included. */
const HARDENING = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "core.untrackedCache=false",
  "core.attributesFile=/dev/null",
  "core.sshCommand=false",
  "core.pager=cat",
  "core.editor=false",
  "core.askPass=false",
  "protocol.allow=never",
  ...["file", "ext", "fd", "git", "ssh", "http", "https", "ftp", "ftps"].map((name) => `protocol.${name}.allow=never`),
  "credential.helper=",
  "commit.gpgSign=false",
  "tag.gpgSign=false",
  "gc.auto=0",
  "maintenance.auto=false",
  "submodule.recurse=false",
  "fetch.recurseSubmodules=false",
].flatMap((setting) => ["-c", setting]);

const SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Git metadata outside objects/ larger than this is refused in untrusted repositories. */
const MAX_METADATA_BYTES = 16 * 1024 * 1024;
const MAX_ENTRIES = 200_000;
const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

// The environment of every host git command: nothing inherited from the daemon.
function gitEnv(repo: HostRepo, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: SAFE_PATH,
    HOME: "/nonexistent",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ATTR_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_PAGER: "cat",
    PAGER: "cat",
    GIT_EDITOR: "false",
    GIT_ASKPASS: "false",
    SSH_ASKPASS: "false",
    GIT_NO_REPLACE_OBJECTS: "1",
    GIT_PROTOCOL_FROM_USER: "0",
    // No transport at all, whatever protocol.<name>.allow the repo's config says: a partial
    // clone's lazy fetch (remote "ext::sh -c ...", remote.*.uploadpack) would run a command.
    GIT_ALLOW_PROTOCOL: "none",
    GIT_DIR: repo.gitDir,
    GIT_COMMON_DIR: repo.commonDir,
    ...extra,
  };
}

// Runs `git ARGS` on repo with the hardened settings and environment.
export function hostGit(repo: HostRepo, args: readonly string[], options: HostGitOptions = {}): Promise<RunResult> {
  return runCommand(["git", ...HARDENING, ...args], {
    env: gitEnv(repo, options.env ?? {}),
    cwd: repo.gitDir,
    timeoutMs: options.timeoutMs ?? 120_000,
    ...(options.signal && { signal: options.signal }),
    ...(options.input !== undefined && { input: options.input }),
    ...(options.check !== undefined && { check: options.check }),
  });
}

// The repository at path (its top directory, or a bare repository). confinedTo: the caller is
// untrusted and the repository must be self-contained inside that directory.
export async function openHostRepo(path: string, options: { confinedTo?: string } = {}): Promise<HostRepo> {
  const confined = options.confinedTo !== undefined;
  const dotGit = join(path, ".git");
  const entry = await lstatOrUndefined(dotGit);
  let gitDir: string;
  if (entry?.isDirectory()) {
    gitDir = dotGit;
  } else if (entry) {
    if (confined) {
      throw new AgentisoError("PERMISSION_DENIED", `${dotGit} is a ${entry.isSymbolicLink() ? "symlink" : "file (gitdir: ...)"}, which may point anywhere on the host: refused; give a repository whose .git is a directory, or a bare repository`);
    }
    gitDir = entry.isSymbolicLink() ? await realpath(dotGit) : await gitFileTarget(dotGit, path);
  } else if (await looksBare(path)) {
    gitDir = path;
  } else {
    throw new AgentisoError("NOT_FOUND", `no git repository at ${path}: name the repository's top directory (with .git) or a bare repository`);
  }
  gitDir = await realpath(gitDir);
  let commonDir = gitDir;
  const commonFile = await lstatOrUndefined(join(gitDir, "commondir"));
  if (commonFile && confined) throw new AgentisoError("PERMISSION_DENIED", `${gitDir}/commondir points git at another repository: refused for a repository from the transfer directory`);
  if (commonFile) {
    const target = (await readBoundedFile(join(gitDir, "commondir"), { maxBytes: 4096, what: "git commondir file", noFollow: false })).toString("utf8").trim();
    commonDir = await realpath(resolve(gitDir, target));
  }
  const repo: HostRepo = { path, gitDir, commonDir, ...(options.confinedTo !== undefined && { confinedTo: options.confinedTo }) };
  if (options.confinedTo !== undefined) await assertSelfContained(repo, options.confinedTo);
  return repo;
}

// Writes a bundle of every ref of repo (what a golden workspace is cloned from).
export async function bundleAll(repo: HostRepo, bundlePath: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
  // An untrusted repository is read through a private view of its object store: a file added to
  // objects/info/alternates after the check above would otherwise pull in another host repo.
  const view = repo.confinedTo === undefined ? undefined : await objectStoreView(repo);
  try {
    await hostGit(repo, ["bundle", "create", bundlePath, "--all"], {
      ...options,
      timeoutMs: options.timeoutMs ?? 600_000,
      ...(view && { env: { GIT_OBJECT_DIRECTORY: view.dir } }),
    });
  } finally {
    if (view) await rm(view.dir, { recursive: true, force: true });
  }
}

export interface PatchCommit {
  /** The commit the branch starts from (full hex id). */
  base: string;
  /** Branch name without refs/heads/; must not exist yet. */
  branch: string;
  patch: string | Buffer;
  /** Commit message paragraphs. */
  message: string[];
  author: { name: string; email: string };
  signal?: AbortSignal;
}

// Commits patch on top of base as a new branch of repo, without a work tree or the repo's
// index: nothing is checked out, so no hook, filter or driver runs. Returns the commit id.
export async function commitPatchOnBranch(repo: HostRepo, commit: PatchCommit): Promise<string> {
  const { patch, message, ...rest } = commit;
  return commitPatchSeriesOnBranch(repo, { ...rest, commits: [{ patch, message }] });
}

/** Patches committed one on top of the other, each its own commit, on one new branch. */
export interface PatchSeries extends Omit<PatchCommit, "patch" | "message"> {
  commits: Array<{ patch: string | Buffer; message: string[] }>;
}

// commitPatchOnBranch for a series (an integrated branch: one commit per step). Returns the last commit id.
export async function commitPatchSeriesOnBranch(repo: HostRepo, series: PatchSeries): Promise<string> {
  if (!COMMIT_ID.test(series.base)) throw new AgentisoError("INVALID_INPUT", `base ${JSON.stringify(series.base)} is not a full commit id`);
  const found = await hostGit(repo, ["rev-parse", "--show-object-format", `${series.base}^{commit}`], { check: false, ...signalOf(series) });
  if (found.exitCode !== 0) throw new AgentisoError("NOT_FOUND", `commit ${series.base.slice(0, 12)} is not in ${repo.path}: the branch must start where the golden was cloned from`);
  const scratch = await mkdtemp(join(tmpdir(), "agentiso-commit-"));
  try {
    const work = await scratchBareRepo(scratch, found.stdout.split("\n")[0]!.trim());
    const env = {
      GIT_OBJECT_DIRECTORY: join(repo.commonDir, "objects"),
      GIT_INDEX_FILE: join(scratch, "index"),
      GIT_AUTHOR_NAME: series.author.name,
      GIT_AUTHOR_EMAIL: series.author.email,
      GIT_COMMITTER_NAME: series.author.name,
      GIT_COMMITTER_EMAIL: series.author.email,
    };
    const git = (args: string[], extra: HostGitOptions = {}) => hostGit(work, args, { env, ...signalOf(series), ...extra });
    await git(["read-tree", series.base]);
    let id = series.base;
    for (const [index, commit] of series.commits.entries()) {
      const patchFile = join(scratch, `step-${index}.patch`);
      await writeFile(patchFile, commit.patch, { mode: 0o600 });
      const applied = await git(["apply", "--cached", "--whitespace=nowarn", patchFile], { check: false });
      if (applied.exitCode !== 0) throw new AgentisoError("CONFLICT", `patch does not apply to ${id.slice(0, 12)}: ${applied.stderr.trim().slice(-1500)}`);
      const tree = (await git(["write-tree"])).stdout.trim();
      const message = commit.message.flatMap((paragraph) => ["-m", paragraph]);
      id = (await git(["commit-tree", "--no-gpg-sign", tree, "-p", id, ...message])).stdout.trim();
    }
    // The empty old value makes the update fail if the branch exists (or appeared meanwhile).
    const updated = await hostGit(repo, ["update-ref", "-m", "agentiso merge", `refs/heads/${series.branch}`, id, ""], { check: false, ...signalOf(series) });
    if (updated.exitCode !== 0) throw new AgentisoError("CONFLICT", `cannot create branch ${series.branch} in ${repo.path}: ${updated.stderr.trim().slice(-500)}`);
    return id;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function signalOf(options: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

// An empty bare repository written by hand (no `git init`: no templates, one spawn less) whose
// config is ours alone; its object store is replaced through GIT_OBJECT_DIRECTORY.
async function scratchBareRepo(scratch: string, objectFormat: string): Promise<HostRepo> {
  const gitDir = join(scratch, "work.git");
  await mkdir(join(gitDir, "objects"), { recursive: true });
  await mkdir(join(gitDir, "refs"));
  await writeFile(join(gitDir, "HEAD"), "ref: refs/heads/main\n");
  const sha256 = objectFormat === "sha256";
  await writeFile(join(gitDir, "config"), `[core]\n\trepositoryformatversion = ${sha256 ? 1 : 0}\n\tbare = true\n${sha256 ? "[extensions]\n\tobjectformat = sha256\n" : ""}`);
  return { path: scratch, gitDir, commonDir: gitDir };
}

// "gitdir: <path>" of a .git file (linked worktrees, submodules), for trusted repositories.
async function gitFileTarget(file: string, top: string): Promise<string> {
  const text = (await readBoundedFile(file, { maxBytes: 4096, what: "git file", noFollow: true })).toString("utf8");
  const match = /^gitdir: (.+)$/m.exec(text);
  if (!match) throw new AgentisoError("INVALID_INPUT", `${file} is not a git file (no "gitdir: " line)`);
  return resolve(top, match[1]!.trim());
}

async function looksBare(path: string): Promise<boolean> {
  const [head, objects, refs] = await Promise.all(["HEAD", "objects", "refs"].map((name) => lstatOrUndefined(join(path, name))));
  return head?.isFile() === true && objects?.isDirectory() === true && refs?.isDirectory() === true;
}

// An untrusted git dir may lead git nowhere else: it lies inside root, holds only directories and
// regular files (no symlink, FIFO or device), names no other repository (commondir, alternates)
// and its config includes no other file.
async function assertSelfContained(repo: HostRepo, root: string): Promise<void> {
  const realRoot = await realpath(root);
  const rel = relative(realRoot, repo.gitDir);
  if (rel.startsWith(".." + sep) || rel === ".." || isAbsolute(rel)) {
    throw new AgentisoError("PERMISSION_DENIED", `the git directory of ${repo.path} lies outside the transfer directory ${root}`);
  }
  const refuse = (path: string, why: string) => new AgentisoError("PERMISSION_DENIED", `${join(repo.gitDir, path)} ${why}: refused for a repository from the transfer directory`);
  let entries = 0;
  const pending = [""];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for (const entry of await readdir(join(repo.gitDir, dir), { withFileTypes: true })) {
      if (++entries > MAX_ENTRIES) throw new AgentisoError("INVALID_INPUT", `${repo.gitDir} holds more than ${MAX_ENTRIES} files: pack it first (git gc)`);
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isSymbolicLink()) throw refuse(path, "is a symlink");
      if (entry.isDirectory()) {
        pending.push(path);
        continue;
      }
      if (!entry.isFile()) throw refuse(path, "is not a regular file");
      if (path === "objects/info/alternates" || path === "objects/info/http-alternates") throw refuse(path, "borrows objects from another repository");
      if (!path.startsWith("objects/") && (await lstat(join(repo.gitDir, path))).size > MAX_METADATA_BYTES) throw refuse(path, `is over ${MAX_METADATA_BYTES} bytes`);
      if (path === "config" || path === "config.worktree") {
        const text = (await readBoundedFile(join(repo.gitDir, path), { maxBytes: 1024 * 1024, what: "git config", noFollow: true })).toString("utf8");
        if (/\[\s*include/i.test(text)) throw refuse(path, "includes other config files ([include] or [includeIf])");
        if (/partialclone|promisor/i.test(text)) throw refuse(path, "makes it a partial clone, whose missing objects git would fetch from a remote");
      }
    }
  }
}

// A directory that stands in for repo's object store: a symlink to each of its entries except
// info/ (where alternates would be read from).
async function objectStoreView(repo: HostRepo): Promise<{ dir: string }> {
  const objects = join(repo.commonDir, "objects");
  const dir = await mkdtemp(join(tmpdir(), "agentiso-objects-"));
  try {
    for (const name of await readdir(objects)) {
      if (name !== "info") await symlink(join(objects, name), join(dir, name));
    }
    return { dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch {
    return undefined;
  }
}
