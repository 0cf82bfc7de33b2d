// What a worker changed: the files and a binary-safe patch, taken with git inside the worker
// (new files included via `add -A`). The baseline is the worker's tree BEFORE the agent ran —
// the golden commit plus whatever setup left behind — so setup output never lands in patches.
import { CappedBytes } from "../core/capped-bytes.js";
import { AgentisoError } from "../core/errors.js";
import type { GuestClient } from "../guest/guest-client.js";
import { shellQuote } from "../guest/run-checked.js";

export interface CollectedChanges {
  files: string[];
  patch: string;
}

// One streamed exec: the changed names NUL-terminated, an empty name, then the patch. The
// worker's git (its own binary, so anything) decides how many bytes come: they are held up to
// maxBytes, and one more fails with TOO_LARGE and stops the command.
// With scratchIndex, `add -A` stages into a copy of the index, so the repo's own staging is
// left as its user had it (workspace_merge reads sources it must not change).
export async function collectChanges(
  guest: GuestClient,
  repoDir: string,
  baseline: string,
  options: { maxBytes: number; what: string; signal?: AbortSignal; scratchIndex?: boolean },
): Promise<CollectedChanges> {
  const base = shellQuote(baseline);
  const diff = `git add -A && git diff --cached --name-only -z ${base} && printf '\\0' && git diff --cached --binary ${base}`;
  const script = options.scratchIndex ? withScratchIndex(diff) : diff;
  const stream = guest.execStream({ shell: script, cwd: repoDir, commandTimeoutMs: 600_000 }, options.signal ? { signal: options.signal } : {});
  const out = new CappedBytes({ what: options.what, maxBytes: options.maxBytes, setting: "[caps] patchBytes", keep: "all" });
  const stderr = new CappedBytes({ what: "git's stderr", maxBytes: Infinity, keep: "tail", windowBytes: 2000 });
  for await (const chunk of stream) (chunk.fd === 1 ? out : stderr).push(chunk.data);
  const result = await stream.result;
  if (result.exitCode !== 0) {
    throw new AgentisoError("BACKEND_FAILED", `git diff in ${repoDir} exited with ${result.exitCode ?? result.signal}: ${stderr.toString().trim()}`, { details: { command: script } });
  }
  return parseCollected(out.toBuffer());
}

function withScratchIndex(script: string): string {
  const copy = 'index=$(git rev-parse --git-path index) && scratch=$(mktemp) && { cp "$index" "$scratch" 2>/dev/null || rm -f "$scratch"; }';
  return `${copy} && export GIT_INDEX_FILE="$scratch" && { ${script}; }; status=$?; rm -f "$scratch"; exit $status`;
}

// Splits "name\0name\0\0patch" (or "\0" and an empty patch when nothing changed).
export function parseCollected(output: Buffer): CollectedChanges {
  const files: string[] = [];
  let at = 0;
  while (at < output.length && output[at] !== 0) {
    const end = output.indexOf(0, at);
    if (end < 0) throw new AgentisoError("BACKEND_FAILED", "git diff output has no end of the file list");
    files.push(output.subarray(at, end).toString("utf8"));
    at = end + 1;
  }
  return { files, patch: output.subarray(at + 1).toString("utf8") };
}
