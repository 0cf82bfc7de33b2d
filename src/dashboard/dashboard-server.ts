// The web dashboard's HTTP listener (loopback by default, daemon.dashboardListen): the page
// and its bundle, GET /login?token= (a one-time token from `agentiso dashboard` for a session
// cookie), the event stream GET /api/events, a task's detail, and workspace actions. Every
// /api route needs the session cookie; actions also need the X-Agentiso-Dashboard header (a
// cross-site form cannot send it) and a Host naming this listener (no DNS rebinding).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { toAgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { OperationInvoker } from "../operations/invoke.js";
import { DashboardAuth, SESSION_TTL_MS } from "./dashboard-auth.js";
import type { EventStream } from "./event-stream.js";
import type { OrchestrationBoard } from "./orchestration-board.js";

export const ACTION_HEADER = "x-agentiso-dashboard";
const COOKIE = "agentiso_dashboard";

export interface DashboardAssets {
  html: string;
  js: string;
  css: string;
}

export interface DashboardServerOptions {
  auth: DashboardAuth;
  stream: EventStream;
  board: OrchestrationBoard;
  invoker: OperationInvoker;
  assets: () => DashboardAssets;
  logger: Logger;
}

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** Page actions on a workspace, each one operation of the registry run as the host's operator. */
const ACTIONS: Record<string, (workspace: string) => { name: string; input: Record<string, unknown> }> = {
  stop: (workspace) => ({ name: "workspace_stop", input: { workspace } }),
  start: (workspace) => ({ name: "workspace_start", input: { workspace } }),
  destroy: (workspace) => ({ name: "workspace_destroy", input: { workspace } }),
  pause: (workspace) => ({ name: "workspace_pause", input: { workspace } }),
  resume: (workspace) => ({ name: "workspace_resume", input: { workspace } }),
  snapshot: (workspace) => ({ name: "snapshot", input: { workspace, action: "create", name: `dash-${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}` } }),
};

export class DashboardServer {
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly options: DashboardServerOptions) {}

  async listen(address: { host: string; port: number }): Promise<AddressInfo> {
    const server = (this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => sendJson(res, 500, { ok: false, error: toAgentisoError(err).toJSON() }));
    }));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(address.port, address.host, () => resolve());
    });
    const bound = server.address() as AddressInfo;
    this.port = bound.port;
    return bound;
  }

  async close(): Promise<void> {
    this.options.stream.close();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://dashboard");
    if (!this.hostAllowed(req.headers.host)) return sendText(res, 421, "text/plain", "this dashboard answers on its own address only\n");
    if (req.method === "GET" && url.pathname === "/login") return this.login(url, res);
    if (req.method === "GET" && url.pathname === "/app.js") return sendText(res, 200, "text/javascript", this.options.assets().js);
    if (req.method === "GET" && url.pathname === "/app.css") return sendText(res, 200, "text/css", this.options.assets().css);
    const signedIn = this.options.auth.valid(cookieOf(req.headers.cookie));
    if (req.method === "GET" && url.pathname === "/") {
      if (!signedIn) return sendText(res, 401, "text/html; charset=utf-8", REFUSED_PAGE);
      return sendText(res, 200, "text/html; charset=utf-8", this.options.assets().html);
    }
    if (!url.pathname.startsWith("/api/")) return sendJson(res, 404, { ok: false, error: { code: "NOT_FOUND", message: `no route ${url.pathname}` } });
    if (!signedIn) return sendJson(res, 401, { ok: false, error: { code: "UNAUTHENTICATED", message: "sign in with the URL `agentiso dashboard` prints" } });
    if (req.method === "GET" && url.pathname === "/api/events") {
      if (!this.options.stream.attach(res)) sendJson(res, 503, { ok: false, error: { code: "QUOTA_EXCEEDED", message: "too many dashboard streams open" } });
      return;
    }
    const detail = /^\/api\/runs\/([\w-]+)\/tasks\/([^/]+)$/.exec(url.pathname);
    if (req.method === "GET" && detail) {
      const found = this.options.board.detail(detail[1]!, decodeURIComponent(detail[2]!));
      return found ? sendJson(res, 200, { ok: true, result: found }) : sendJson(res, 404, { ok: false, error: { code: "NOT_FOUND", message: "no such task (yet)" } });
    }
    const action = /^\/api\/workspaces\/([^/]+)\/(stop|start|destroy|snapshot|pause|resume)$/.exec(url.pathname);
    if (req.method === "POST" && action && req.headers[ACTION_HEADER] === "1") return this.act(res, decodeURIComponent(action[1]!), action[2]!);
    return sendJson(res, 404, { ok: false, error: { code: "NOT_FOUND", message: `no route ${req.method} ${url.pathname}` } });
  }

  private login(url: URL, res: ServerResponse): void {
    const session = this.options.auth.redeem(url.searchParams.get("token") ?? "");
    if (!session) return sendText(res, 401, "text/html; charset=utf-8", REFUSED_PAGE);
    const cookie = `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`;
    res.writeHead(303, { location: "/", "set-cookie": cookie, ...SECURITY_HEADERS }).end();
  }

  private async act(res: ServerResponse, workspace: string, action: string): Promise<void> {
    const call = ACTIONS[action]!(workspace);
    try {
      const result = await this.options.invoker.invoke({ ...call, signal: AbortSignal.timeout(10 * 60_000) });
      this.options.logger.info("dashboard action", { action, workspace });
      sendJson(res, 200, { ok: true, result: result ?? null });
    } catch (err) {
      const error = toAgentisoError(err);
      sendJson(res, error.code === "NOT_FOUND" ? 404 : error.code === "INVALID_INPUT" ? 400 : 409, { ok: false, error: error.toJSON() });
    }
  }

  // The Host header must name this listener: a loopback name, or the address it was bound to.
  private hostAllowed(host: string | undefined): boolean {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host ?? "");
    if (!match || Number(match[2] ?? 80) !== this.port) return false;
    const name = match[1]!.replace(/^\[|\]$/g, "");
    const bound = (this.server?.address() as AddressInfo | null)?.address;
    return ["127.0.0.1", "localhost", "::1"].includes(name) || name === bound;
  }
}

const REFUSED_PAGE = `<!doctype html><meta charset="utf-8"><title>agentiso: sign in</title>
<p>401: not signed in. Run <code>agentiso dashboard</code> on the daemon's host and open the URL it prints (each URL works once, for five minutes).</p>\n`;

function cookieOf(header: string | undefined): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [name, value] = part.trim().split("=", 2);
    if (name === COOKIE) return value;
  }
  return undefined;
}

function sendText(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), ...SECURITY_HEADERS }).end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  sendText(res, status, "application/json", JSON.stringify(body));
}
