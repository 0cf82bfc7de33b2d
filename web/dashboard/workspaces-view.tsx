// Workspaces: one row each, forks under the workspace they were forked from (a tree), with
// its next ttl/idle deadline and exposed ports (links), and pause/resume/stop/start/destroy/
// snapshot behind an inline confirmation. Every string is rendered as text.
import { useState } from "preact/hooks";
import { duration, useNow, workspaceAction } from "./live";
import type { WorkspaceRow } from "./types";

// pause or resume, whichever the state allows, then the rest
const actionsFor = (state: string) => [state === "paused" ? "resume" : "pause", "stop", "start", "snapshot", "destroy"];

// 812 KiB, 3.4 MiB, 1.2 GiB: bytes as people read them.
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

// Rows in tree order: each fork right after its origin, with its depth.
export function lineage(rows: WorkspaceRow[]): Array<{ row: WorkspaceRow; depth: number }> {
  const names = new Set(rows.map((r) => r.name));
  const children = new Map<string, WorkspaceRow[]>();
  for (const row of rows) {
    const parent = row.forkedFrom !== undefined && names.has(row.forkedFrom) ? row.forkedFrom : "";
    children.set(parent, [...(children.get(parent) ?? []), row]);
  }
  const out: Array<{ row: WorkspaceRow; depth: number }> = [];
  const visit = (parent: string, depth: number) => {
    for (const row of (children.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
      out.push({ row, depth });
      if (depth < 32) visit(row.name, depth + 1);
    }
  };
  visit("", 0);
  return out;
}

export function WorkspacesView({ rows }: { rows: WorkspaceRow[] | undefined }) {
  const now = useNow();
  const [asking, setAsking] = useState<{ name: string; action: string } | undefined>();
  const [message, setMessage] = useState("");
  if (!rows) return <p class="muted">waiting for the daemon…</p>;
  const run = async (name: string, action: string) => {
    setAsking(undefined);
    setMessage(`${action} ${name}…`);
    const error = await workspaceAction(name, action);
    setMessage(error ? `${action} ${name} failed: ${error}` : `${action} ${name}: done`);
  };
  return (
    <section aria-label="Workspaces">
      <p class="status" role="status">{message || `${rows.length} workspaces`}</p>
      <table class="grid workspaces" data-testid="workspaces">
        <thead>
          <tr><th>name</th><th>state</th><th>runtime</th><th>image</th><th>network</th><th title="used / limit">memory MiB</th><th title="use over the last seconds / cpus">cpu</th><th title="disk used (snapshots included where the storage counts them)">disk</th><th>age</th><th title="the next ttl or idle deadline">expires</th><th title="exposed ports (ws port): open in a new tab">ports</th><th>actions</th></tr>
        </thead>
        <tbody>
          {lineage(rows).map(({ row, depth }) => (
            <tr key={row.name} data-workspace={row.name}>
              <td class="name" style={{ paddingLeft: `${0.5 + depth * 1.2}rem` }} title={row.error ?? row.owner ?? ""}>
                {depth > 0 ? "└ " : ""}{row.name}
              </td>
              <td><span class={`badge state-${row.state}`}>{row.state}</span></td>
              <td>{row.runtime}</td>
              <td>{row.image}</td>
              <td class="net" title={row.allowCount === undefined ? row.network : `${row.network}: ${row.allowCount} allowed destinations`}>{row.network}{row.allowCount === undefined ? "" : ` (${row.allowCount})`}</td>
              <td class="num mem">{row.memoryBytes === undefined ? "–" : `${Math.round(row.memoryBytes / 1048576)}`} / {row.memoryMiB}</td>
              <td class="num cpu">{row.cpuPercent === undefined ? "–" : `${row.cpuPercent.toFixed(1)}%`} / {row.cpus}</td>
              <td class="num disk">{row.diskUsedBytes === undefined ? "–" : bytes(row.diskUsedBytes)}</td>
              <td class="num">{duration(now - Date.parse(row.createdAt))}</td>
              <td class="expires" title={row.expires ? `${row.expires.reason}: ${row.expires.action} at ${row.expires.at}` : ""}>
                {row.expires ? `${row.expires.action} in ${duration(Date.parse(row.expires.at) - now)}` : "–"}
              </td>
              <td class="ports">
                {(row.ports ?? []).map((p) => (
                  <a key={p.guestPort} href={`http://${p.address}/`} target="_blank" rel="noopener noreferrer" class={p.active ? "" : "muted"} title={p.active ? `open :${p.guestPort}` : "not listening (stopped?)"}>
                    {p.guestPort}
                  </a>
                ))}
              </td>
              <td class="actions">
                {asking?.name === row.name ? (
                  <span>
                    {asking.action} {row.name}?{" "}
                    <button class="danger" autoFocus onClick={() => void run(row.name, asking.action)}>yes, {asking.action}</button>
                    <button onClick={() => setAsking(undefined)}>cancel</button>
                  </span>
                ) : (
                  actionsFor(row.state).map((action) => (
                    <button key={action} data-action={action} onClick={() => setAsking({ name: row.name, action })}>{action}</button>
                  ))
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
