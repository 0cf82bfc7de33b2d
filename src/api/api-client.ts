// Client of the daemon's control API (used by the CLI, `agentiso serve` and tests).
import { request } from "node:http";
import type { Writable } from "node:stream";
import { withDeadline } from "../core/deadline.js";
import { AgentisoError, ERROR_CODES, isAgentisoError, type ErrorCode } from "../core/errors.js";
import { LineReader, MAX_STRING_LINE_BYTES } from "../core/line-reader.js";
import type { InputOf, OperationContract, OutputOf } from "../contract/contract.js";
import type { TerminalClientSession } from "./terminal-client.js";

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Takes one progress event; a returned promise pauses the stream until it settles. */
export type ProgressHandler = (event: unknown) => void | Promise<void>;

export interface ApiClientOptions {
  socketPath: string;
  /** MCP session on whose behalf calls are made. */
  session?: string;
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  // Runs an operation, typed by its contract: the input and the result are what the contract says.
  run<C extends OperationContract>(contract: C, input: InputOf<C>, options: CallOptions = {}): Promise<OutputOf<C>> {
    return this.call(contract.name, input, options);
  }

  // Runs a long operation, typed by its contract, calling onProgress for each progress event
  // (while a promise it returns is pending, the daemon's stream is paused: backpressure).
  runStreaming<C extends OperationContract>(contract: C, input: InputOf<C>, onProgress: ProgressHandler, options: { signal?: AbortSignal } = {}): Promise<OutputOf<C>> {
    return this.callStreaming(contract.name, input, onProgress, options);
  }

  // Runs an operation by name (untyped: for tools forwarding raw calls); throws the daemon's error as an AgentisoError.
  async call<T = unknown>(operation: string, input: unknown, options: CallOptions = {}): Promise<T> {
    const body = JSON.stringify({ input, ...(this.options.session !== undefined && { session: this.options.session }) });
    const response = await this.send("POST", `/v1/operations/${operation}`, body, options);
    return response as T;
  }

  // Runs a long operation, calling onProgress for each progress line the daemon streams.
  callStreaming<T = unknown>(operation: string, input: unknown, onProgress: ProgressHandler, options: { signal?: AbortSignal } = {}): Promise<T> {
    const body = JSON.stringify({ input, ...(this.options.session !== undefined && { session: this.options.session }) });
    return new Promise((resolve, reject) => {
      let settled = false;
      const req = request(
        {
          socketPath: this.options.socketPath,
          ...NO_SERVERNAME,
          method: "POST",
          path: `/v1/operations/${operation}`,
          agent: false,
          headers: { "content-type": "application/json", accept: "application/x-ndjson", "content-length": Buffer.byteLength(body) },
          ...(options.signal && { signal: options.signal }),
        },
        (res) => {
          const reader = new LineReader({ maxLineBytes: MAX_STRING_LINE_BYTES, stripCarriageReturn: false, tooLong: { action: "throw", error: progressTooLong } });
          res.on("data", (chunk: Buffer) => {
            let lines: string[];
            try {
              lines = reader.push(chunk);
            } catch (err) {
              settled = true;
              res.destroy();
              return reject(err);
            }
            const taken: Promise<void>[] = [];
            for (const line of lines.filter(Boolean)) {
              const message = JSON.parse(line) as { progress?: unknown; ok?: boolean };
              if ("progress" in message) {
                const pending = onProgress(message.progress);
                if (pending) taken.push(pending);
              } else {
                settled = true;
                try {
                  resolve(unwrap(message) as T);
                } catch (err) {
                  reject(err);
                }
              }
            }
            if (taken.length > 0) {
              res.pause();
              void Promise.all(taken).then(() => res.resume(), () => res.resume());
            }
          });
          res.on("end", () => settled || reject(new AgentisoError("BACKEND_FAILED", `the daemon closed ${operation} without a result (did it die? see daemon.log)`)));
          res.on("error", (err) => settled || reject(unreachable(this.options.socketPath, err)));
        },
      );
      req.on("error", (err) => {
        if (settled) return;
        if (options.signal?.aborted) reject(new AgentisoError("CANCELLED", `${operation} was cancelled`));
        else reject(err instanceof AgentisoError ? err : unreachable(this.options.socketPath, err));
      });
      req.end(body);
    });
  }

  // Opens a terminal operation (workspace_shell), typed by its contract; the terminal's output goes to `output`.
  async openTerminal<C extends OperationContract>(contract: C, input: InputOf<C>, output: Writable): Promise<TerminalClientSession<OutputOf<C>>> {
    // loaded when used: its frames need the shell contract (zod), which the CLI's fast path must not load
    const { openTerminal } = await import("./terminal-client.js");
    try {
      return await openTerminal<OutputOf<C>>({ socketPath: this.options.socketPath, operation: contract.name, input, output, unwrap, ...(this.options.session !== undefined && { session: this.options.session }) });
    } catch (err) {
      // a daemon without the terminal door (started by an older agentiso) answers as for any unknown route
      if (isAgentisoError(err, "NOT_FOUND") && err.message.startsWith("no route ")) {
        throw new AgentisoError("UNSUPPORTED", `${err.message}: the running daemon has no terminals, it may be older than this CLI (restart it: agentiso daemon stop)`);
      }
      throw err instanceof AgentisoError ? err : unreachable(this.options.socketPath, err as Error);
    }
  }

  // A URL that signs a browser in to the daemon's dashboard once (docs/dashboard.md).
  async dashboardLogin(options: { timeoutMs?: number } = {}): Promise<{ url: string }> {
    return (await this.send("POST", "/v1/dashboard/login", "", options)) as { url: string };
  }

  async health(options: { timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    return (await this.send("GET", "/v1/health", undefined, options)) as Record<string, unknown>;
  }

  private send(method: string, path: string, body: string | undefined, options: { signal?: AbortSignal; timeoutMs?: number }): Promise<unknown> {
    const signal = options.timeoutMs !== undefined ? withDeadline(options.timeoutMs, options.signal) : options.signal;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.options.socketPath,
          ...NO_SERVERNAME,
          method,
          path,
          headers: body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          // A fresh connection per call: a unix socket costs nothing to open, and a pooled
          // socket would carry one call's timeout into the next.
          agent: false,
          ...(signal && { signal }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            try {
              resolve(unwrap(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
            } catch (err) {
              reject(err instanceof AgentisoError ? err : new AgentisoError("INTERNAL", `bad response from the daemon: ${(err as Error).message}`));
            }
          });
        },
      );
      req.on("error", (err) => {
        if (signal?.aborted) reject(new AgentisoError(options.signal?.aborted ? "CANCELLED" : "TIMEOUT", `the daemon did not answer ${path} in time`));
        else reject(err instanceof AgentisoError ? err : unreachable(this.options.socketPath, err));
      });
      req.end(body);
    });
  }
}

function unwrap(body: { ok?: boolean; result?: unknown; error?: { code?: string; message?: string; details?: Record<string, unknown> } }): unknown {
  if (body.ok) return body.result;
  const code = (ERROR_CODES as readonly string[]).includes(body.error?.code ?? "") ? (body.error!.code as ErrorCode) : "INTERNAL";
  throw new AgentisoError(code, body.error?.message ?? "unknown daemon error", body.error?.details ? { details: body.error.details } : {});
}

function progressTooLong(maxLineBytes: number): AgentisoError {
  return new AgentisoError("TOO_LARGE", `the daemon streamed a line over ${maxLineBytes} bytes`);
}

// A unix socket has no TLS: an empty servername spares node's http agent its isIP() check of
// the host, whose IPv6 regex took ~4.5 ms to compile in every CLI call (its first request).
const NO_SERVERNAME = { servername: "" };

function unreachable(socketPath: string, err: Error): AgentisoError {
  return new AgentisoError("BACKEND_FAILED", `cannot reach the agentiso daemon at ${socketPath}: ${err.message} (start it with \`agentiso daemon\`)`, { cause: err });
}
