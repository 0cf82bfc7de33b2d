// Getting a repository into a workspace. A URL is cloned by git inside the workspace, which
// gets outbound network (egress) for the clone only (an allowlist workspace keeps its
// allowlist: the URL's host must be on it). A host path is packed with `git bundle` on the
// host, streamed in through the agent and cloned from the bundle: the workspace never sees
// the host's filesystem and the checkout is clean. Which host repos a caller may name is its
// HostPaths': any for the host's root (CLI, control API), for an MCP session only a
// self-contained one inside its own transfer directory (no `.git` file, symlink or alternates
// leading elsewhere: host-git.ts).
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { bundleAll, openHostRepo, type HostRepo } from "../core/host-git.js";
import type { HostPaths } from "../core/host-paths.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import { gitIn } from "./workspace-git.js";
import type { WorkspaceDeps } from "./workspace-deps.js";

export type CloneSource = { url: string } | { hostPath: string };

const REMOTE_URL = /^(https?|git|ssh):\/\/|^[\w.-]+@[\w.-]+:/;

type CloneDeps = Pick<WorkspaceDeps, "engine" | "hostPaths" | "signal">;

// Clones source into dest inside the workspace and returns the checked-out commit.
export async function cloneIntoWorkspace(deps: CloneDeps, record: WorkspaceRecord, guest: GuestClient, source: CloneSource, dest: string, branch?: string): Promise<string> {
  const { signal } = deps;
  const branchArgs = branch === undefined ? [] : ["--branch", branch];
  if ("url" in source) {
    await withEgress(deps, record, cloneNeedsNetwork(source), () => gitIn(guest, "/", ["clone", "--quiet", ...branchArgs, "--", source.url, dest], { signal }));
  } else {
    const repo = await hostRepoFor(deps.hostPaths, source.hostPath);
    const bundleDir = await mkdtemp(join(tmpdir(), "agentiso-bundle-"));
    const guestBundle = `/tmp/agentiso-clone-${randomBytes(6).toString("hex")}.bundle`;
    try {
      const bundle = join(bundleDir, "repo.bundle");
      await bundleAll(repo, bundle, { signal });
      await guest.upload(guestBundle, createReadStream(bundle), {}, { signal });
      await gitIn(guest, "/", ["clone", "--quiet", ...branchArgs, "--", guestBundle, dest], { signal });
    } finally {
      await rm(bundleDir, { recursive: true, force: true });
      await guest.remove(guestBundle, {}, { signal }).catch(() => {});
    }
  }
  return (await gitIn(guest, dest, ["rev-parse", "HEAD"], { signal })).stdout.trim();
}

// True when cloning source takes the workspace's own network (a remote URL, not a host path).
export function cloneNeedsNetwork(source: CloneSource): boolean {
  return "url" in source && REMOTE_URL.test(source.url);
}

// The host repo the caller may read: resolved by its HostPaths, confined when they are.
async function hostRepoFor(paths: HostPaths, path: string): Promise<HostRepo> {
  const resolved = await paths.resolve(path, { what: "hostPath" });
  return openHostRepo(resolved, { ...(paths.root !== undefined && { confinedTo: paths.root }) });
}

// Runs fn with the workspace switched to egress when needed (it has no network), and switches
// it back after. An allowlist is kept: the clone's host must be on it, nothing else opens.
async function withEgress<T>(deps: Pick<WorkspaceDeps, "engine">, record: WorkspaceRecord, needed: boolean, fn: () => Promise<T>): Promise<T> {
  const workspaces = deps.engine.workspaces;
  const current = workspaces.get(record.id).network;
  if (!needed || current !== "none") return fn();
  await workspaces.setNetwork(record.id, "egress");
  try {
    return await fn();
  } finally {
    await workspaces.setNetwork(record.id, current);
  }
}
