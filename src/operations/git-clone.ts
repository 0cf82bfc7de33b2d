// Getting a repository into a workspace. A URL is cloned by git inside the workspace, which
// gets outbound network (egress) for the clone only. A host path is packed with `git bundle`
// on the host, streamed in through the agent and cloned from the bundle: the workspace never
// sees the host's filesystem and the checkout is clean. The CLI and control API may name any
// host repo (they run as the host's admin); an MCP session only a self-contained one inside its
// own transfer directory (no `.git` file, symlink or alternates leading elsewhere: host-git.ts).
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { bundleAll, openHostRepo, type HostRepo } from "../core/host-git.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { OperationContext } from "./operation.js";
import { hostPathsFor } from "./host-access.js";
import { gitIn } from "./git-exec.js";

export type CloneSource = { url: string } | { hostPath: string };

const REMOTE_URL = /^(https?|git|ssh):\/\/|^[\w.-]+@[\w.-]+:/;

// Clones source into dest inside the workspace and returns the checked-out commit.
export async function cloneIntoWorkspace(ctx: OperationContext, record: WorkspaceRecord, guest: GuestClient, source: CloneSource, dest: string, branch?: string): Promise<string> {
  const branchArgs = branch === undefined ? [] : ["--branch", branch];
  if ("url" in source) {
    await withEgress(ctx, record, REMOTE_URL.test(source.url), () => gitIn(ctx, guest, "/", ["clone", "--quiet", ...branchArgs, "--", source.url, dest]));
  } else {
    const repo = await hostRepoFor(ctx, source.hostPath);
    const bundleDir = await mkdtemp(join(tmpdir(), "agentiso-bundle-"));
    const guestBundle = `/tmp/agentiso-clone-${randomBytes(6).toString("hex")}.bundle`;
    try {
      const bundle = join(bundleDir, "repo.bundle");
      await bundleAll(repo, bundle, { signal: ctx.signal });
      await guest.upload(guestBundle, createReadStream(bundle), {}, { signal: ctx.signal });
      await gitIn(ctx, guest, "/", ["clone", "--quiet", ...branchArgs, "--", guestBundle, dest]);
    } finally {
      await rm(bundleDir, { recursive: true, force: true });
      await guest.remove(guestBundle, {}, { signal: ctx.signal }).catch(() => {});
    }
  }
  return (await gitIn(ctx, guest, dest, ["rev-parse", "HEAD"])).stdout.trim();
}

// The host repo a caller may read: anything for the CLI; for a session, only a self-contained
// repository inside its transfer directory.
async function hostRepoFor(ctx: OperationContext, path: string): Promise<HostRepo> {
  const paths = hostPathsFor(ctx);
  const resolved = await paths.resolve(path, { what: "hostPath" });
  return openHostRepo(resolved, { ...(paths.root !== undefined && { confinedTo: paths.root }) });
}

// Runs fn with the workspace switched to egress when needed, and switches it back after.
async function withEgress<T>(ctx: OperationContext, record: WorkspaceRecord, needed: boolean, fn: () => Promise<T>): Promise<T> {
  const current = ctx.services.engine.workspaces.get(record.id).network;
  if (!needed || current === "egress") return fn();
  await ctx.services.engine.workspaces.setNetwork(record.id, "egress");
  try {
    return await fn();
  } finally {
    await ctx.services.engine.workspaces.setNetwork(record.id, current);
  }
}
