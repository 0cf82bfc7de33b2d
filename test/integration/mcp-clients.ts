// MCP clients for the integration tests, all through the official SDK client: `agentiso serve`
// over stdio, the daemon's Streamable HTTP on its unix socket (a fetch over node:http with
// socketPath) and on TCP with a bearer token. `call` returns the parsed result and throws on
// isError; `fails` expects isError and returns the code and text.
import { request } from "node:http";
import { Readable } from "node:stream";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CLI, type CliHarness } from "../support/cli-harness.js";

export interface McpTestClient extends AsyncDisposable {
  client: Client;
  call<T = any>(name: string, args?: Record<string, unknown>): Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any
  fails(name: string, args?: Record<string, unknown>): Promise<{ code: string; text: string }>;
}

type ToolAnswer = { isError?: boolean; content: Array<{ type: string; text: string }> };

// `end` runs on dispose before the client closes (HTTP: end the MCP session on the server).
function wrap(client: Client, end: () => Promise<void> = async () => {}): McpTestClient {
  const raw = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 })) as ToolAnswer;
  return {
    client,
    async call(name, args = {}) {
      const answer = await raw(name, args);
      if (answer.isError) throw new Error(`${name} failed: ${answer.content[0]?.text}`);
      return JSON.parse(answer.content[0]!.text);
    },
    async fails(name, args = {}) {
      const answer = await raw(name, args);
      assert.equal(answer.isError, true, `${name} should fail but answered ${answer.content[0]?.text.slice(0, 300)}`);
      const text = answer.content[0]!.text;
      return { code: text.slice(0, text.indexOf(":")), text };
    },
    [Symbol.asyncDispose]: async () => {
      await end().catch(() => {});
      await client.close();
    },
  };
}

// `agentiso serve [--session NAME]` in the harness's home, as an MCP client launches it.
export async function stdioClient(cli: CliHarness, session?: string): Promise<McpTestClient> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "serve", ...(session ? ["--session", session] : [])],
    env: cli.env as Record<string, string>,
    stderr: "pipe",
  });
  const client = new Client({ name: "agentiso-test", version: "1" });
  await client.connect(transport);
  return wrap(client);
}

// A fetch that speaks HTTP over a unix socket, streaming the response body (SSE works).
export function unixFetch(socketPath: string): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = typeof init.body === "string" ? init.body : undefined;
    return new Promise<Response>((resolve, reject) => {
      const req = request({ socketPath, method: init.method ?? "GET", path: url.pathname + url.search, headers, agent: false, ...(init.signal && { signal: init.signal }) }, (res) => {
        const responseHeaders = new Headers();
        for (const [key, value] of Object.entries(res.headers)) if (typeof value === "string") responseHeaders.set(key, value);
        const status = res.statusCode ?? 500;
        const stream = status === 202 || status === 204 ? null : (Readable.toWeb(res) as ReadableStream);
        if (!stream) res.resume();
        resolve(new Response(stream, { status, headers: responseHeaders }));
      });
      req.on("error", reject);
      req.end(body);
    });
  }) as typeof fetch;
}

// The daemon's MCP endpoint on its unix socket; `session` goes in X-Agentiso-Session.
export async function unixHttpClient(socketPath: string, session?: string): Promise<McpTestClient> {
  const transport = new StreamableHTTPClientTransport(new URL("http://agentiso/mcp"), {
    fetch: unixFetch(socketPath),
    ...(session && { requestInit: { headers: { "x-agentiso-session": session } } }),
  });
  const client = new Client({ name: "agentiso-test-http", version: "1" });
  await client.connect(transport);
  return wrap(client, () => transport.terminateSession());
}

// The daemon's MCP endpoint on TCP with a bearer token.
export async function tcpHttpClient(port: number, token: string, session?: string): Promise<McpTestClient> {
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}`, ...(session && { "x-agentiso-session": session }) } },
  });
  const client = new Client({ name: "agentiso-test-tcp", version: "1" });
  await client.connect(transport);
  return wrap(client, () => transport.terminateSession());
}
