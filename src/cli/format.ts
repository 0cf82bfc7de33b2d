// Human output: aligned tables and short workspace lines. --json output bypasses this.
import type { Workspace } from "../contract/result-schemas.js";

export function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  return all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}


export function workspaceTable(workspaces: readonly Workspace[]): string {
  return table(
    workspaces.map((w) => [w.name, w.id, w.state, w.image, w.runtime ?? "", w.network ?? "", w.forkedFrom ? `${w.forkedFrom.workspace}@${w.forkedFrom.snapshot}` : "", w.createdAt]),
    ["NAME", "ID", "STATE", "IMAGE", "RUNTIME", "NETWORK", "FORKED FROM", "CREATED"],
  );
}
