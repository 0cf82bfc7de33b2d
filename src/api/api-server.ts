// The daemon's control API: JSON over HTTP on a unix socket in the state dir, created mode 0600
// (bound under umask 0177, no chmod afterwards: there is never a moment when it is wider), in
// a state dir of mode 0710 — only root and the owner reach it. Every operation of the registry is one endpoint:
//   POST /v1/operations/<name>   body {"input": {...}, "session"?: "..."}
//   → 200 {"ok": true, "result": ...} | 4xx/5xx {"ok": false, "error": {"code", "message", "details"?}}
// Terminal operations (workspace_shell) upgrade the connection instead:
//   GET /v1/terminal/<name>   Upgrade: agentiso-terminal   → terminal frames (terminal-route.ts)
// Other routes (MCP, metrics) are mounted by the daemon through `extraRoutes`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { rm } from "node:fs/promises";
import type { Duplex } from "node:stream";
import { AgentisoError, toAgentisoError } from "../core/errors.js";
import type { OperationInvoker } from "../operations/invoke.js";
import { HTTP_STATUS } from "./error-status.js";
import { writeDrained } from "../core/write-drained.js";
import { serveTerminalUpgrade } from "./terminal-route.js";

export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface ApiServerOptions {
  socketPath: string;
  /** Runs the operations: validation, admission, metrics and error mapping happen there. */
  invoker: OperationInvoker;
  health: () => Record<string, unknown>;
  /** Tried in order before the built-in routes; return true when handled. */
  extraRoutes?: RouteHandler[];
  /** Aborted when the daemon stops: open terminal sessions then end (CANCELLED) so the server can close. */
  stopping?: AbortSignal;
}

// Starts listening; resolves with the server once the socket accepts connections.
export async function startApiServer(options: ApiServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => sendError(res, toAgentisoError(err)));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => serveTerminalUpgrade(req, socket, head, options.invoker, options.stopping));
  await rm(options.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    listenPrivately(server, options.socketPath, () => resolve());
  });
  return server;
}

// Binds the socket with umask 0177, so it is created 0600: no moment exists in which another
// local user could connect (a chmod after listen leaves one). Node binds a unix socket
// synchronously inside listen(), so the process-wide umask is changed for no other file.
function listenPrivately(server: Server, socketPath: string, onListening: () => void): void {
  const previous = process.umask(0o177);
  try {
    server.listen(socketPath, onListening);
  } finally {
    process.umask(previous);
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, options: ApiServerOptions): Promise<void> {
  for (const route of options.extraRoutes ?? []) if (await route(req, res)) return;
  const url = new URL(req.url ?? "/", "http://agentiso");
  const { invoker } = options;
  if (req.method === "GET" && url.pathname === "/v1/health") return sendJson(res, 200, { ok: true, result: options.health() });
  if (req.method === "GET" && url.pathname === "/v1/operations") {
    return sendJson(res, 200, { ok: true, result: invoker.contracts.map((op) => ({ name: op.name, title: op.title, description: op.description })) });
  }
  const match = /^\/v1\/operations\/([a-z_]+)$/.exec(url.pathname);
  if (req.method !== "POST" || !match) throw new AgentisoError("NOT_FOUND", `no route ${req.method} ${url.pathname}`);
  const name = match[1]!;
  // a terminal operation is found too: the invoker says it needs the terminal upgrade
  if (!invoker.has(name) && !invoker.hasTerminal(name)) throw new AgentisoError("NOT_FOUND", `no operation ${name} (GET /v1/operations lists them)`);
  const body = await readJsonBody(req);
  const controller = new AbortController();
  res.on("close", () => controller.abort(new AgentisoError("CANCELLED", "client went away")));
  const session = typeof body.session === "string" ? body.session : undefined;
  // Long operations (orchestrate) stream progress as NDJSON lines when the client asks for it;
  // the last line is the usual {"ok": ...} envelope.
  const streaming = (req.headers.accept ?? "").includes("application/x-ndjson");
  const progress = streaming ? (event: unknown) => writeDrained(res, JSON.stringify({ progress: event }) + "\n") : undefined;
  if (streaming) res.writeHead(200, { "content-type": "application/x-ndjson" });
  try {
    const result = await invoker.invoke({ name, input: body.input, signal: controller.signal, ...(session !== undefined && { session }), ...(progress && { progress }) });
    if (streaming) res.end(JSON.stringify({ ok: true, result: result ?? null }) + "\n");
    else sendJson(res, 200, { ok: true, result: result ?? null });
  } catch (err) {
    const error = toAgentisoError(err);
    if (streaming) res.end(JSON.stringify({ ok: false, error: error.toJSON() }) + "\n");
    else sendError(res, error);
  }
}

async function readJsonBody(req: IncomingMessage): Promise<{ input?: unknown; session?: unknown }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) throw new AgentisoError("INVALID_INPUT", `request body over ${MAX_REQUEST_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
    return parsed as { input?: unknown; session?: unknown };
  } catch (err) {
    throw new AgentisoError("INVALID_INPUT", `request body is not a JSON object: ${(err as Error).message}`);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, error: AgentisoError): void {
  sendJson(res, HTTP_STATUS[error.code], { ok: false, error: error.toJSON() });
}
