// Human output: aligned tables and short workspace lines. --json output bypasses this.
import type { Workspace } from "../contract/result-schemas.js";
import { durationText } from "../core/duration-text.js";

export function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  return all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}


export function workspaceTable(workspaces: readonly Workspace[], now = Date.now()): string {
  return table(
    workspaces.map((w) => [
      w.name, w.id, w.state, w.image, w.runtime ?? "", w.network ?? "",
      w.forkedFrom ? `${w.forkedFrom.workspace}@${w.forkedFrom.snapshot}` : "", w.createdAt, nextDeadline(w.lifecycle, now),
    ]),
    ["NAME", "ID", "STATE", "IMAGE", "RUNTIME", "NETWORK", "FORKED FROM", "CREATED", "EXPIRES"],
  );
}

// The sooner of the ttl and idle deadlines, as "destroy in 1h59m"; empty when there is none.
export function nextDeadline(lifecycle: Workspace["lifecycle"], now: number): string {
  const deadlines = [lifecycle?.ttl, lifecycle?.idle]
    .flatMap((limit) => (limit?.at === undefined ? [] : [{ action: limit.action, at: limit.at }]))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const first = deadlines[0];
  return first ? `${first.action} in ${durationText(Date.parse(first.at) - now)}` : "";
}
