// The repository a git_clone or workspace_prepare call names (contract: CloneSourceArgs).
import type { CloneSource } from "../domain/git-clone.js";

// The source the arguments name, or undefined when they name none.
export function cloneSourceOf(input: { url?: string | undefined; hostPath?: string | undefined }): CloneSource | undefined {
  if (input.url !== undefined) return { url: input.url };
  return input.hostPath !== undefined ? { hostPath: input.hostPath } : undefined;
}
