// git_status's parser of `git status --porcelain=v1 --branch -z`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseGitPorcelain } from "../../src/domain/git-porcelain.js";

test("git_status parses branch, upstream, ahead/behind, modified, untracked and renamed files", () => {
  const output = ["## main...origin/main [ahead 2, behind 1]", " M src/a.ts", "?? new file.txt", "R  b.ts", "old b.ts", "A  c.ts", ""].join("\0");
  assert.deepEqual(parseGitPorcelain(output), {
    branch: "main",
    upstream: "origin/main",
    ahead: 2,
    behind: 1,
    clean: false,
    files: [
      { index: " ", worktree: "M", path: "src/a.ts" },
      { index: "?", worktree: "?", path: "new file.txt" },
      { index: "R", worktree: " ", path: "b.ts", from: "old b.ts" },
      { index: "A", worktree: " ", path: "c.ts" },
    ],
  });
});

test("git_status reports a clean repo without upstream, and a repo with no commits yet", () => {
  assert.deepEqual(parseGitPorcelain("## main\0"), { branch: "main", upstream: null, ahead: 0, behind: 0, clean: true, files: [] });
  assert.equal(parseGitPorcelain("## No commits yet on master\0").branch, "master");
  assert.equal(parseGitPorcelain("## HEAD (no branch)\0").branch, null);
});
