// What a worker changed: the files and a binary-safe patch, taken with git inside the worker
// (new files included via `add -A`). The baseline is the worker's tree BEFORE the agent ran —
// the golden commit plus whatever setup left behind — so setup output never lands in patches.
import type { GuestClient } from "../guest/guest-client.js";
import { shell, shellQuote } from "./guest-shell.js";

export interface CollectedChanges {
  files: string[];
  patch: string;
}

// Records the current tree as a git tree object (index left as it was) and returns its id.
export async function snapshotTree(guest: GuestClient, repoDir: string, signal?: AbortSignal): Promise<string> {
  const out = await shell(guest, "git add -A && git write-tree && git reset -q", "git write-tree", { cwd: repoDir, ...(signal && { signal }) });
  return out.trim();
}

export async function collectChanges(guest: GuestClient, repoDir: string, baseline: string, signal?: AbortSignal): Promise<CollectedChanges> {
  const options = { cwd: repoDir, ...(signal && { signal }) };
  await shell(guest, "git add -A", "git add", options);
  const names = await shell(guest, `git diff --cached --name-only ${shellQuote(baseline)}`, "git diff --name-only", options);
  const files = names.split("\n").filter(Boolean);
  if (files.length === 0) return { files, patch: "" };
  // Through a file, not exec output: buffered exec output is capped at 1 MiB, patches are not.
  const patchPath = "/tmp/agentiso-task.patch";
  await shell(guest, `git diff --cached --binary ${shellQuote(baseline)} > ${patchPath}`, "git diff", options);
  const chunks: Buffer[] = [];
  for await (const chunk of guest.download(patchPath, {}, signal ? { signal } : {})) chunks.push(chunk);
  await guest.remove(patchPath, {}, signal ? { signal } : {});
  return { files, patch: Buffer.concat(chunks).toString("utf8") };
}
