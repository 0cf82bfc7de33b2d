// Pure parser of `git status --porcelain=v1 --branch -z`, so git_status returns data an LLM
// (or the orchestrator) can act on instead of text to re-parse.

export interface GitFileStatus {
  path: string;
  /** Set for renames and copies: the path before. */
  from?: string;
  /** Index (staged) status letter, e.g. "M", "A", "D", "R", "?" or " ". */
  index: string;
  /** Work-tree status letter. */
  worktree: string;
}

export interface GitStatus {
  branch: string | null;
  upstream: string | null;
  ahead: number;
  behind: number;
  clean: boolean;
  files: GitFileStatus[];
}

// Parses NUL-separated porcelain v1 output with a leading "## branch...upstream [ahead N]" entry.
export function parseGitPorcelain(output: string): GitStatus {
  const entries = output.split("\0");
  const status: GitStatus = { branch: null, upstream: null, ahead: 0, behind: 0, clean: true, files: [] };
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry === "") continue;
    if (entry.startsWith("## ")) {
      Object.assign(status, parseBranchLine(entry.slice(3)));
      continue;
    }
    const file: GitFileStatus = { index: entry[0]!, worktree: entry[1]!, path: entry.slice(3) };
    // With -z a rename's original path follows as its own entry.
    if (file.index === "R" || file.index === "C") file.from = entries[++i] ?? "";
    status.files.push(file);
  }
  status.clean = status.files.length === 0;
  return status;
}

function parseBranchLine(line: string): Pick<GitStatus, "branch" | "upstream" | "ahead" | "behind"> {
  const counts = /\s\[(.*)\]$/.exec(line);
  const names = counts ? line.slice(0, counts.index) : line;
  const ahead = Number(/ahead (\d+)/.exec(counts?.[1] ?? "")?.[1] ?? 0);
  const behind = Number(/behind (\d+)/.exec(counts?.[1] ?? "")?.[1] ?? 0);
  if (names.startsWith("No commits yet on ")) return { branch: names.slice("No commits yet on ".length), upstream: null, ahead, behind };
  if (names.startsWith("HEAD (no branch)")) return { branch: null, upstream: null, ahead, behind };
  const [branch, upstream] = names.split("...");
  return { branch: branch ?? null, upstream: upstream ?? null, ahead, behind };
}
