// MCP over Streamable HTTP, served by the daemon: on its unix socket (route /mcp, reachable by
// whoever may open the 0600 socket: the host's root) and, when configured, on a TCP address
// where each client logs in with its own bearer token. Each MCP session gets its own server
// object. Identity for workspace ownership: the `X-Agentiso-Session` header when the client
// sends one (stable across reconnects and daemon restarts), else the Mcp-Session-Id the daemon
// generated (ownership then lasts as long as that MCP session) — on TCP scoped under the
// client's name (session-scope.ts), so a token names its own client's sessions only.
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { AgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { isValidName } from "../core/names.js";
import { clientSession, type OperationInvoker } from "../operations/invoke.js";
import { describeOversized, oversizedAnswer, type OversizedMessage } from "./oversize-guard.js";
import { createToolServer } from "./tool-server.js";
import type { ToolCaller } from "./tool-caller.js";

export const MCP_PATH = "/mcp";
export const SESSION_HEADER = "x-agentiso-session";
const MAX_BODY_BYTES = 48 * 1024 * 1024;
const IDLE_SESSION_MS = 6 * 3600 * 1000;
/** A client at its session cap may replace a session idle this long. */
const EVICT_IDLE_SESSION_MS = 60_000;
// Loaded on first use: `agentiso serve` shares this bundle and must start fast without it.
const loadTransport = () => import("@modelcontextprotocol/sdk/server/streamableHttp.js");

export interface HttpMcpOptions {
  invoker: OperationInvoker;
  version: string;
  logger: Logger;
}

/** An MCP client that logs in over TCP with its own token (config [[daemon.clients]]). */
export interface McpClientCredential {
  name: string;
  token: string;
  maxSessions: number;
}

interface OpenSession {
  transport: StreamableHTTPServerTransport;
  /** The TCP client that opened it; undefined on the unix socket. */
  client: string | undefined;
  lastSeenMs: number;
}

export class HttpMcpEndpoint {
  private readonly sessions = new Map<string, OpenSession>();
  /** Initialize requests of each client still being answered (not yet in `sessions`). */
  private readonly opening = new Map<string, number>();
  private tcp: Server | undefined;

  constructor(private readonly options: HttpMcpOptions) {}

  // Route for the daemon's unix-socket server: handles /mcp, returns false for anything else.
  readonly route = (req: IncomingMessage, res: ServerResponse): Promise<boolean> => this.routeFor(req, res, undefined);

  // Serves /mcp on host:port for clients that present `Authorization: Bearer <their token>`;
  // every other path goes to `others` (the dashboard, with its own sign-in) when given.
  async listenTcp(address: { host: string; port: number }, clients: readonly McpClientCredential[], others?: (req: IncomingMessage, res: ServerResponse) => void): Promise<AddressInfo> {
    if (clients.length === 0) throw new AgentisoError("INVALID_INPUT", "MCP over TCP needs a client token: daemon.mcpToken (AGENTISO_MCP_TOKEN) or [[daemon.clients]]");
    const short = clients.find((c) => c.token.length < 16);
    if (short) throw new AgentisoError("INVALID_INPUT", `the MCP bearer token of client ${short.name} must be at least 16 characters`);
    const known = clients.map((client) => ({ client, hash: createHash("sha256").update(client.token).digest() }));
    this.tcp = createServer((req, res) => {
      if (others && new URL(req.url ?? "/", "http://agentiso").pathname !== MCP_PATH) return others(req, res);
      const given = createHash("sha256").update(/^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "").digest();
      // every token is compared, so the time taken says nothing about which one came close
      const client = known.reduce<McpClientCredential | undefined>((found, k) => (timingSafeEqual(given, k.hash) ? k.client : found), undefined);
      if (!client) return sendRpcError(res, 401, "missing or wrong bearer token", { "www-authenticate": 'Bearer realm="agentiso"' });
      this.routeFor(req, res, client)
        .then((handled) => handled || sendRpcError(res, 404, `only ${MCP_PATH} is served here`))
        .catch((err: unknown) => sendRpcError(res, 500, (err as Error).message));
    });
    const server = this.tcp;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(address.port, address.host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  // Ends every MCP session and stops the TCP listener.
  async close(): Promise<void> {
    await Promise.allSettled([...this.sessions.values()].map((s) => s.transport.close()));
    this.sessions.clear();
    const tcp = this.tcp;
    if (tcp) await new Promise<void>((resolve) => (tcp.close(() => resolve()), tcp.closeAllConnections()));
  }

  private async routeFor(req: IncomingMessage, res: ServerResponse, client: McpClientCredential | undefined): Promise<boolean> {
    if (new URL(req.url ?? "/", "http://agentiso").pathname !== MCP_PATH) return false;
    await this.handle(req, res, client);
    return true;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, client: McpClientCredential | undefined): Promise<void> {
    const sessionId = req.headers["mcp-session-id"];
    const body = req.method === "POST" ? await readJson(req) : undefined;
    if (body instanceof AgentisoError) return sendRpcError(res, 400, body.message, {}, -32700);
    if (body instanceof OversizedBody) {
      // Answered like any failed call (isError for tools/call), so the client's session goes on.
      const answer = oversizedAnswer(body.message, MAX_BODY_BYTES);
      if (answer === undefined) return sendRpcError(res, 413, `MCP request body over ${MAX_BODY_BYTES} bytes`);
      res.writeHead(200, { "content-type": "application/json" }).end(answer);
      return;
    }
    if (typeof sessionId === "string") {
      const session = this.sessions.get(sessionId);
      // another client's session id is answered like one that does not exist
      if (!session || session.client !== client?.name) return sendRpcError(res, 404, `unknown MCP session ${sessionId}: initialize a new session`);
      session.lastSeenMs = Date.now();
      return session.transport.handleRequest(req, res, body);
    }
    if (req.method !== "POST" || !isInitializeRequest(body)) return sendRpcError(res, 400, "send an initialize request first (no Mcp-Session-Id header)");
    const identity = req.headers[SESSION_HEADER];
    if (identity !== undefined && (typeof identity !== "string" || !isValidName(identity))) {
      return sendRpcError(res, 400, `${SESSION_HEADER} must be 1-63 characters from a-z 0-9 _ . - starting with a letter or digit`);
    }
    this.closeIdleSessions();
    if (!client) return (await this.newSession(identity, undefined)).handleRequest(req, res, body);
    if (!(await this.roomForSession(client))) {
      return sendRpcError(res, 429, `client ${client.name} has ${client.maxSessions} MCP sessions open and in use, its limit (maxSessions): end one (HTTP DELETE with its Mcp-Session-Id) first`);
    }
    this.opening.set(client.name, (this.opening.get(client.name) ?? 0) + 1);
    try {
      await (await this.newSession(identity, client.name)).handleRequest(req, res, body);
    } finally {
      this.opening.set(client.name, this.opening.get(client.name)! - 1);
    }
  }

  // Whether the client may open one more session. At its cap, its least recently used session
  // makes room if it has been idle a while (clients that reconnect without DELETE leave such
  // sessions behind); sessions in use are never closed for another.
  private async roomForSession(client: McpClientCredential): Promise<boolean> {
    const own = [...this.sessions.values()].filter((s) => s.client === client.name).sort((a, b) => a.lastSeenMs - b.lastSeenMs);
    if (own.length + (this.opening.get(client.name) ?? 0) < client.maxSessions) return true;
    const oldest = own[0];
    if (!oldest || Date.now() - oldest.lastSeenMs < EVICT_IDLE_SESSION_MS) return false;
    await oldest.transport.close();
    return true;
  }

  // Clients that vanish without DELETE leave sessions behind; drop those idle for long (their
  // workspaces stay owned: ownership is the identity, not the MCP session object).
  private closeIdleSessions(): void {
    const cutoff = Date.now() - IDLE_SESSION_MS;
    for (const session of this.sessions.values()) if (session.lastSeenMs < cutoff) void session.transport.close();
  }

  private async newSession(identity: string | undefined, client: string | undefined): Promise<StreamableHTTPServerTransport> {
    const { StreamableHTTPServerTransport } = await loadTransport();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void this.sessions.set(id, { transport, client, lastSeenMs: Date.now() }),
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
    };
    const name = () => identity ?? `mcp-${transport.sessionId ?? "pending"}`;
    const session = () => (client === undefined ? name() : clientSession(client, name()));
    const { invoker } = this.options;
    const call: ToolCaller = (name, input, { signal, progress }) => invoker.invoke({ name, input, session: session(), signal, ...(progress && { progress }) });
    const server = createToolServer({ contracts: invoker.contracts, version: this.options.version, call });
    void server.connect(transport);
    return transport;
  }
}

/** A body over MAX_BODY_BYTES: only its first and last bytes were kept. */
class OversizedBody {
  constructor(readonly message: OversizedMessage) {}
}

// The parsed body, an OversizedBody, or an error to answer with (not JSON). An oversized body
// is drained, not stored, so the client still gets an answer.
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tail = Buffer.alloc(0);
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else tail = Buffer.concat([tail, chunk]).subarray(-1024);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (size > MAX_BODY_BYTES) return resolve(new OversizedBody(describeOversized(Buffer.concat(chunks.slice(0, 4)), tail, size)));
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown);
      } catch (err) {
        resolve(new AgentisoError("INVALID_INPUT", `MCP request body is not JSON: ${(err as Error).message}`));
      }
    });
  });
}

function sendRpcError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code = status === 404 ? -32001 : -32000): void {
  if (res.headersSent) return;
  const body = JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null });
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(body);
}
