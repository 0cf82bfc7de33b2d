// The web dashboard's HTTP routes, served on its own listener (loopback by default,
// daemon.dashboardListen) and on MCP's TCP listener when that one is on (`handler`): the page and
// its bundle, /login (a one-time token from `agentiso dashboard`, or the bearer token of an MCP
// client allowed the dashboard, for a session cookie), the event stream GET /api/events, runs'
// task details, transcripts and files (run-routes.ts), and workspace actions. Every /api route
// needs the session cookie; actions also need the X-Agentiso-Dashboard header (a cross-site form
// cannot send it). The Host must name the listener the request came in on (no DNS rebinding).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AgentisoError, toAgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { OperationInvoker } from "../operations/invoke.js";
import { DashboardAuth, SESSION_TTL_MS } from "./dashboard-auth.js";
import type { EventStream } from "./event-stream.js";
import type { OrchestrationBoard } from "./orchestration-board.js";
import { runRoute, type RunRouteDeps } from "./run-routes.js";
import type { RunHistory } from "./run-history.js";

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
  history: RunHistory;
  transcriptOf: RunRouteDeps["transcriptOf"];
  /** Set once the daemon's invoker exists (before any listener starts). */
  invoker: OperationInvoker | undefined;
  assets: () => DashboardAssets;
  logger: Logger;
  /** Whether a bearer token (an MCP client's) may sign a browser in; checked in constant time by the caller. */
  bearerSignIn?: (token: string) => boolean;
}

const MAX_LOGIN_BODY_BYTES = 4096;

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

  constructor(private readonly options: DashboardServerOptions) {}

  set invoker(invoker: OperationInvoker) {
    this.options.invoker = invoker;
  }

  // Serves one request of any listener that hands it over (its own, MCP's TCP one).
  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    this.handle(req, res).catch((err: unknown) => {
      const error = toAgentisoError(err);
      sendJson(res, STATUS[error.code] ?? 500, { ok: false, error: error.toJSON() });
    });
  };

  async listen(address: { host: string; port: number }): Promise<AddressInfo> {
    const server = (this.server = createServer(this.handler));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(address.port, address.host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.options.stream.close();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://dashboard");
    if (!hostAllowed(req)) return sendText(res, 421, "text/plain", "this dashboard answers on its own address only\n");
    if (url.pathname === "/login" && req.method === "POST") return this.login((await readForm(req)).get("token") ?? "", res);
    if (url.pathname === "/login" && req.method === "GET") {
      const token = url.searchParams.get("token");
      return token === null ? sendText(res, 200, "text/html; charset=utf-8", LOGIN_FORM, { "content-security-policy": LOGIN_FORM_CSP }) : this.login(token, res);
    }
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
    if (req.method === "GET" && (await runRoute(url.pathname, res, { board: this.options.board, history: this.options.history, transcriptOf: this.options.transcriptOf }, SECURITY_HEADERS))) return;
    const action = /^\/api\/workspaces\/([^/]+)\/(stop|start|destroy|snapshot|pause|resume)$/.exec(url.pathname);
    if (req.method === "POST" && action && req.headers[ACTION_HEADER] === "1") return this.act(res, decodeURIComponent(action[1]!), action[2]!);
    return sendJson(res, 404, { ok: false, error: { code: "NOT_FOUND", message: `no route ${req.method} ${url.pathname}` } });
  }

  // A one-time login token, or an MCP client's bearer token where allowed, for a session cookie.
  private login(token: string, res: ServerResponse): void {
    const session = this.options.auth.redeem(token) ?? (token.length >= 16 && this.options.bearerSignIn?.(token) ? this.options.auth.newSession() : undefined);
    if (!session) return sendText(res, 401, "text/html; charset=utf-8", REFUSED_PAGE);
    const cookie = `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`;
    res.writeHead(303, { location: "/", "set-cookie": cookie, ...SECURITY_HEADERS }).end();
  }

  private async act(res: ServerResponse, workspace: string, action: string): Promise<void> {
    const call = ACTIONS[action]!(workspace);
    try {
      if (!this.options.invoker) throw new AgentisoError("INVALID_STATE", "the daemon is still starting");
      const result = await this.options.invoker.invoke({ ...call, signal: AbortSignal.timeout(10 * 60_000) });
      this.options.logger.info("dashboard action", { action, workspace });
      sendJson(res, 200, { ok: true, result: result ?? null });
    } catch (err) {
      const error = toAgentisoError(err);
      sendJson(res, error.code === "NOT_FOUND" ? 404 : error.code === "INVALID_INPUT" ? 400 : 409, { ok: false, error: error.toJSON() });
    }
  }

}

// The Host header must name the listener the request came in on: a loopback name, or the
// address the connection arrived at (an IP literal: no name a DNS rebinding could point here).
function hostAllowed(req: IncomingMessage): boolean {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(req.headers.host ?? "");
  if (!match || Number(match[2] ?? 80) !== req.socket.localPort) return false;
  const name = match[1]!.replace(/^\[|\]$/g, "");
  const local = (req.socket.localAddress ?? "").replace(/^::ffff:/, "");
  return ["127.0.0.1", "localhost", "::1"].includes(name) || name === local;
}

const STATUS: Record<string, number> = { INVALID_INPUT: 400, NOT_FOUND: 404, TOO_LARGE: 413, UNAUTHENTICATED: 401 };

// The sign-in form of a listener a browser reaches without `agentiso dashboard` (MCP's): the
// token goes in a POST body, never in the address bar or history.
const LOGIN_FORM = `<!doctype html><meta charset="utf-8"><title>agentiso: sign in</title>
<form method="post" action="/login"><p><label>Token: <input name="token" type="password" autocomplete="off" autofocus required></label> <button>sign in</button></p>
<p>A one-time token from <code>agentiso dashboard</code>, or the bearer token of an MCP client allowed the dashboard.</p></form>\n`;
const LOGIN_FORM_CSP = "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

// A small urlencoded body (the sign-in form); larger ones are cut off at MAX_LOGIN_BODY_BYTES.
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = "";
  for await (const chunk of req as AsyncIterable<Buffer>) {
    body += chunk.toString("utf8");
    if (body.length > MAX_LOGIN_BODY_BYTES) break;
  }
  return new URLSearchParams(body.slice(0, MAX_LOGIN_BODY_BYTES));
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

function sendText(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), ...SECURITY_HEADERS, ...headers }).end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  sendText(res, status, "application/json", JSON.stringify(body));
}
