// A patch committed on a new branch of a repository inside a workspace (the golden's, for a
// repo cloned from a URL): cut from base, applied to the index, committed; the repo is left
// detached at base again whatever happened, so the next patch starts from the same state.
import { randomBytes } from "node:crypto";
import type { GuestClient } from "../guest/guest-client.js";
import { runChecked, shellQuote } from "../guest/run-checked.js";

export interface WorkspacePatchCommit {
  base: string;
  branch: string;
  patch: string;
  message: string;
  /** Names the step in the error, e.g. "applying fix-typo's patch". */
  what: string;
  signal?: AbortSignal;
}

const AUTHOR = ["-c", "user.name=agentiso", "-c", "user.email=agentiso@localhost"];

// Resolves with the new commit; throws BACKEND_FAILED with git's output when the patch does not apply.
export async function commitPatchInWorkspace(guest: GuestClient, repoDir: string, commit: WorkspacePatchCommit): Promise<string> {
  const signal = commit.signal ? { signal: commit.signal } : {};
  const patchPath = `/tmp/agentiso-${randomBytes(6).toString("hex")}.patch`;
  await guest.writeFile(patchPath, commit.patch, {}, signal);
  const script = [
    `git checkout --quiet -b ${shellQuote(commit.branch)} ${shellQuote(commit.base)}`,
    `git apply --index --binary ${shellQuote(patchPath)}`,
    `git ${AUTHOR.join(" ")} commit --quiet -m ${shellQuote(commit.message)}`,
    "git rev-parse HEAD",
  ].join(" && ");
  const restore = `git checkout --quiet --detach ${shellQuote(commit.base)}; rm -f ${shellQuote(patchPath)}`;
  const out = await runChecked(guest, { shell: `${script}; status=$?; ${restore}; exit $status` }, { what: commit.what, cwd: repoDir, ...signal });
  return out.stdout.trim().split("\n").pop()!;
}
