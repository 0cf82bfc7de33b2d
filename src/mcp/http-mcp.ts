// MCP over Streamable HTTP, served by the daemon: on its unix socket (route /mcp, reachable by
// whoever may open the 0600 socket) and, when configured, on a TCP address that requires a
// bearer token. Each MCP session gets its own server object. Identity for workspace ownership:
// the `X-Agentiso-Session` header when the client sends one (stable across reconnects and
// daemon restarts), else the Mcp-Session-Id the daemon generated (ownership then lasts as
// long as that MCP session).
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { AgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { isValidName } from "../core/names.js";
import { localInvoker, type LocalInvokerOptions } from "./operation-invoker.js";
import { describeOversized, oversizedAnswer, type OversizedMessage } from "./oversize-guard.js";
import { createToolServer } from "./tool-server.js";

export const MCP_PATH = "/mcp";
export const SESSION_HEADER = "x-agentiso-session";
const MAX_BODY_BYTES = 48 * 1024 * 1024;
const IDLE_SESSION_MS = 6 * 3600 * 1000;
// Loaded on first use: `agentiso serve` shares this bundle and must start fast without it.
const loadTransport = () => import("@modelcontextprotocol/sdk/server/streamableHttp.js");

export interface HttpMcpOptions extends LocalInvokerOptions {
  version: string;
  logger: Logger;
}

export class HttpMcpEndpoint {
  private readonly transports = new Map<string, StreamableHTTPServerTransport>();
  private readonly lastSeenMs = new Map<string, number>();
  private tcp: Server | undefined;

  constructor(private readonly options: HttpMcpOptions) {}

  // Route for the daemon's unix-socket server: handles /mcp, returns false for anything else.
  readonly route = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (new URL(req.url ?? "/", "http://agentiso").pathname !== MCP_PATH) return false;
    await this.handle(req, res);
    return true;
  };

  // Serves /mcp on host:port for clients that present `Authorization: Bearer <token>`.
  async listenTcp(address: { host: string; port: number }, token: string): Promise<AddressInfo> {
    if (token.length < 16) throw new AgentisoError("INVALID_INPUT", "the MCP bearer token must be at least 16 characters (daemon.mcpToken or AGENTISO_MCP_TOKEN)");
    const expected = createHash("sha256").update(token).digest();
    this.tcp = createServer((req, res) => {
      const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
      if (!timingSafeEqual(createHash("sha256").update(given).digest(), expected)) {
        return sendRpcError(res, 401, "missing or wrong bearer token", { "www-authenticate": 'Bearer realm="agentiso"' });
      }
      this.route(req, res)
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
    await Promise.allSettled([...this.transports.values()].map((t) => t.close()));
    this.transports.clear();
    const tcp = this.tcp;
    if (tcp) await new Promise<void>((resolve) => (tcp.close(() => resolve()), tcp.closeAllConnections()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
      const transport = this.transports.get(sessionId);
      if (!transport) return sendRpcError(res, 404, `unknown MCP session ${sessionId}: initialize a new session`);
      this.lastSeenMs.set(sessionId, Date.now());
      return transport.handleRequest(req, res, body);
    }
    if (req.method !== "POST" || !isInitializeRequest(body)) return sendRpcError(res, 400, "send an initialize request first (no Mcp-Session-Id header)");
    const identity = req.headers[SESSION_HEADER];
    if (identity !== undefined && (typeof identity !== "string" || !isValidName(identity))) {
      return sendRpcError(res, 400, `${SESSION_HEADER} must be 1-63 characters from a-z 0-9 _ . - starting with a letter or digit`);
    }
    this.closeIdleSessions();
    const transport = await this.newSession(identity);
    return transport.handleRequest(req, res, body);
  }

  // Clients that vanish without DELETE leave sessions behind; drop those idle for long (their
  // workspaces stay owned: ownership is the identity, not the MCP session object).
  private closeIdleSessions(): void {
    const cutoff = Date.now() - IDLE_SESSION_MS;
    for (const [id, seen] of this.lastSeenMs) if (seen < cutoff) void this.transports.get(id)?.close();
  }

  private async newSession(identity: string | undefined): Promise<StreamableHTTPServerTransport> {
    const { StreamableHTTPServerTransport } = await loadTransport();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.transports.set(id, transport);
        this.lastSeenMs.set(id, Date.now());
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.transports.delete(transport.sessionId);
      if (transport.sessionId) this.lastSeenMs.delete(transport.sessionId);
    };
    const session = () => identity ?? `mcp-${transport.sessionId ?? "pending"}`;
    const server = createToolServer({ operations: this.options.operations, version: this.options.version, call: localInvoker(this.options, session) });
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
