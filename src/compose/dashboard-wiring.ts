// What connects the dashboard to the daemon: the engine's workspaces as rows, and the route
// of the control socket that mints a login URL (POST /v1/dashboard/login: whoever may open the
// 0600 socket, i.e. root, may sign a browser in — the same credential as MCP on the socket).
import type { RouteHandler } from "../api/api-server.js";
import type { Dashboard } from "../dashboard/dashboard.js";
import type { WorkspaceRow } from "../dashboard/page-shapes.js";
import type { Engine } from "../engine/engine.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { WorkspaceUsageSampler } from "./workspace-usage.js";

export const DASHBOARD_LOGIN_PATH = "/v1/dashboard/login";

// The engine's workspaces as the page shows them (no pid, no ids), with their last usage reading.
export function workspaceRows(engine: Engine<GuestClient> | undefined, usage: WorkspaceUsageSampler): WorkspaceRow[] {
  return (engine?.workspaces.list() ?? []).map((r) => withPorts(engine!, r, {
    ...usage.of(r.id),
    name: r.name,
    state: r.state,
    runtime: r.runtime,
    image: r.image,
    network: r.network,
    memoryMiB: r.memoryMiB,
    cpus: r.cpus,
    diskBytes: r.diskBytes,
    ...(r.forkedFrom && { forkedFrom: r.forkedFrom.workspace }),
    ...(r.owner !== undefined && { owner: r.owner }),
    createdAt: r.createdAt,
    ...(r.error !== undefined && { error: r.error }),
    ...expiryOf(r),
    ...allowCountOf(r),
  }));
}

// With network mode allowlist: how many destinations it may reach (record.allowlist, which the
// network-policy work adds to the record; read loosely so this compiles with and without it).
function allowCountOf(record: WorkspaceRecord): Pick<WorkspaceRow, "allowCount"> {
  const allow = (record as { allowlist?: { allow?: unknown } }).allowlist?.allow;
  return Array.isArray(allow) ? { allowCount: allow.length } : {};
}

// The sooner of its ttl and idle deadlines, if any applies.
function expiryOf(record: WorkspaceRecord): Pick<WorkspaceRow, "expires"> {
  const { ttl, idle } = record.lifecycle ?? {};
  const deadlines = [
    ...(ttl ? [{ reason: "ttl" as const, action: ttl.action, at: ttl.at }] : []),
    ...(idle?.at ? [{ reason: "idle" as const, action: idle.action, at: idle.at }] : []),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return deadlines[0] ? { expires: deadlines[0] } : {};
}

function withPorts(engine: Engine<GuestClient>, record: WorkspaceRecord, row: WorkspaceRow): WorkspaceRow {
  const ports = engine.ports.list(record.id).map((p) => ({ guestPort: p.guestPort, address: p.address, active: p.active }));
  return ports.length > 0 ? { ...row, ports } : row;
}

// POST /v1/dashboard/login → {"ok": true, "result": {"url": ...}}: a URL that signs a browser in once.
export function dashboardLoginRoute(dashboard: Dashboard): RouteHandler {
  return (req, res) => {
    if (req.method !== "POST" || req.url !== DASHBOARD_LOGIN_PATH) return false;
    const url = dashboard.loginUrl();
    const body = url
      ? { ok: true, result: { url } }
      : { ok: false, error: { code: "NOT_FOUND", message: 'the dashboard is off (daemon.dashboardListen = "off"): set it to host:port, e.g. 127.0.0.1:7465, and restart the daemon' } };
    res.writeHead(url ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(body));
    return true;
  };
}
