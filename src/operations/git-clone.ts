// Getting a repository into a workspace. A URL is cloned by git inside the workspace, which
// gets outbound network (egress) for the clone only. A host path is packed with `git bundle`
// on the host, streamed in through the agent and cloned from the bundle: the workspace never
// sees the host's filesystem and the checkout is clean. The CLI and control API may name any
// host repo (they run as the host's admin); an MCP session only one inside the transfer dir.
import { createReadStream } from "node:fs";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import { runCommand } from "../core/run-command.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { OperationContext } from "./operation.js";
import { confinedHostPath } from "./file-operations.js";
import { gitIn } from "./git-exec.js";

export type CloneSource = { url: string } | { hostPath: string };

export const CloneSourceArgs = {
  url: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^[^-]/, "a URL must not start with -")
    .optional()
    .describe("Git URL to clone (https://, git://, ssh://, user@host:path) or a path inside the workspace"),
  hostPath: z.string().min(1).max(4096).optional().describe("A git repository on the host (MCP sessions: a path inside the host transfer directory)"),
  branch: z.string().min(1).max(256).regex(/^[^-\s][^\s]*$/, "a branch must not start with - or contain spaces").optional().describe("Branch or tag to check out (default: the remote's HEAD)"),
};

const REMOTE_URL = /^(https?|git|ssh):\/\/|^[\w.-]+@[\w.-]+:/;

// Clones source into dest inside the workspace and returns the checked-out commit.
export async function cloneIntoWorkspace(ctx: OperationContext, record: WorkspaceRecord, guest: GuestClient, source: CloneSource, dest: string, branch?: string): Promise<string> {
  const branchArgs = branch === undefined ? [] : ["--branch", branch];
  if ("url" in source) {
    await withEgress(ctx, record, REMOTE_URL.test(source.url), () => gitIn(ctx, guest, "/", ["clone", "--quiet", ...branchArgs, "--", source.url, dest]));
  } else {
    const repo = await hostRepoPath(ctx, source.hostPath);
    const bundleDir = await mkdtemp(join(tmpdir(), "agentiso-bundle-"));
    const guestBundle = `/tmp/agentiso-clone-${randomBytes(6).toString("hex")}.bundle`;
    try {
      const bundle = join(bundleDir, "repo.bundle");
      await runCommand(["git", "-c", "safe.directory=*", "-C", repo, "bundle", "create", bundle, "--all"], { signal: ctx.signal, timeoutMs: 600_000 });
      await guest.upload(guestBundle, createReadStream(bundle), {}, { signal: ctx.signal });
      await gitIn(ctx, guest, "/", ["clone", "--quiet", ...branchArgs, "--", guestBundle, dest]);
    } finally {
      await rm(bundleDir, { recursive: true, force: true });
      await guest.remove(guestBundle, {}, { signal: ctx.signal }).catch(() => {});
    }
  }
  return (await gitIn(ctx, guest, dest, ["rev-parse", "HEAD"])).stdout.trim();
}

// The host repo a caller may read: anything for the CLI, only the transfer dir for a session.
async function hostRepoPath(ctx: OperationContext, path: string): Promise<string> {
  if (ctx.session === undefined) {
    if (!isAbsolute(path)) throw new AgentisoError("INVALID_INPUT", `hostPath ${JSON.stringify(path)} must be absolute`);
    return path;
  }
  let inside = path;
  if (isAbsolute(path)) {
    const root = await realpath(ctx.services.transferDir).catch(() => ctx.services.transferDir);
    inside = relative(root, path);
    if (inside.startsWith("..") || isAbsolute(inside)) {
      throw new AgentisoError("PERMISSION_DENIED", `hostPath ${JSON.stringify(path)} is outside the transfer directory ${root}: MCP sessions may clone host repos only from there`);
    }
  }
  return confinedHostPath(ctx.services.transferDir, inside || ".", false);
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
