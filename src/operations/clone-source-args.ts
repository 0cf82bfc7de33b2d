// The arguments naming a repository to clone, shared by git_clone and workspace_prepare.
import { z } from "zod";
import type { CloneSource } from "../domain/git-clone.js";

export const CloneSourceArgs = {
  url: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^[^-]/, "a URL must not start with -")
    .optional()
    .describe("Git URL to clone (https://, git://, ssh://, user@host:path) or a path inside the workspace"),
  hostPath: z.string().min(1).max(4096).optional().describe("A git repository on the host (MCP sessions: a path relative to, or inside, this session's own transfer directory)"),
  branch: z.string().min(1).max(256).regex(/^[^-\s][^\s]*$/, "a branch must not start with - or contain spaces").optional().describe("Branch or tag to check out (default: the remote's HEAD)"),
};

// The source the arguments name, or undefined when they name none.
export function cloneSourceOf(input: { url?: string | undefined; hostPath?: string | undefined }): CloneSource | undefined {
  if (input.url !== undefined) return { url: input.url };
  return input.hostPath !== undefined ? { hostPath: input.hostPath } : undefined;
}
