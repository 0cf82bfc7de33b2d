// The keyless LLM proxy. Workers see only a loopback URL; their connections reach this
// host-side server (tunnelled by the guest agent, or over TCP in tests), which forwards the
// inference requests of the one configured provider (proxy-routes.ts: nothing else the key
// could do) with the real key, and meters and caps each task's tokens and cost.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { AgentisoError } from "../core/errors.js";
import { assertValidName } from "../core/names.js";
import { silentLogger, type Logger } from "../core/logger.js";
import { forwardRequest } from "./proxy-forward.js";
import { parseProviderBase, type LlmProviderConfig } from "./provider.js";
import type { RouteOptions } from "./proxy-routes.js";
import { TaskSpend, type SpendLimits, type TaskUsage, type TokenPrices } from "./task-spend.js";

export interface LlmProxyOptions {
  provider: LlmProviderConfig;
  /** Needed for maxCostUsd caps and cost figures. */
  prices?: TokenPrices;
  logger?: Logger;
  /** How long the provider may take to start answering; default 10 min (slow reasoning models). */
  upstreamTimeoutMs?: number;
  /** Endpoints forwarded beside the inference ones every client needs (e.g. embeddings). */
  routes?: RouteOptions;
}

export interface ProxyTask extends AsyncDisposable {
  readonly taskId: string;
  /** Serve HTTP on a connected stream (e.g. a guest tunnel). The stream is owned from now on. */
  handleConnection(socket: Duplex): void;
  /** Also listen on 127.0.0.1 (tests, host runs); resolves with the base URL clients use. */
  listen(): Promise<string>;
  /** Path under which clients must send requests: use `http://<proxy>${basePath}` as baseURL. */
  readonly basePath: string;
  usage(): TaskUsage;
  /** Stops listening and drops this task's connections. */
  close(): Promise<void>;
}

export class LlmProxy {
  private readonly base: URL;
  private readonly logger: Logger;
  private readonly tasks = new Map<string, ProxyTask>();

  constructor(private readonly options: LlmProxyOptions) {
    this.base = parseProviderBase(options.provider);
    this.logger = (options.logger ?? silentLogger).child({ component: "llm-proxy", provider: this.base.origin });
  }

  // A handle that serves one task's connections and counts that task's spend.
  forTask(taskId: string, limits: SpendLimits = {}): ProxyTask {
    assertValidName(taskId, "task id");
    if (this.tasks.has(taskId)) throw new AgentisoError("CONFLICT", `llm proxy already serves task ${taskId}`);
    if (limits.maxCostUsd !== undefined && !this.options.prices) {
      throw new AgentisoError("INVALID_INPUT", "a maxCostUsd cap needs token prices: pass prices to the LlmProxy");
    }
    const spend = new TaskSpend(taskId, limits, this.options.prices);
    const ctx = { provider: this.options.provider, base: this.base, spend, logger: this.logger, upstreamTimeoutMs: this.options.upstreamTimeoutMs ?? 600_000, routes: this.options.routes ?? {} };
    const server = createServer((req, res) => forwardRequest(req, res, ctx));
    server.on("clientError", (_err, socket) => socket.destroy());
    const task = makeTask(taskId, server, spend, this.base.pathname, () => this.tasks.delete(taskId));
    this.tasks.set(taskId, task);
    return task;
  }

  // Closes every task handle still open.
  async close(): Promise<void> {
    await Promise.all([...this.tasks.values()].map((task) => task.close()));
  }
}

function makeTask(taskId: string, server: Server, spend: TaskSpend, basePath: string, forget: () => void): ProxyTask {
  let closed: Promise<void> | undefined;
  // http.Server tracks only connections it accepted itself (and only once listening)
  const handedOver = new Set<Duplex>();
  const close = () =>
    (closed ??= new Promise<void>((resolve) => {
      forget();
      for (const socket of handedOver) socket.destroy();
      server.closeAllConnections();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    }));
  return {
    taskId,
    basePath,
    handleConnection: (socket) => {
      if (closed) return void socket.destroy();
      handedOver.add(socket);
      socket.once("close", () => handedOver.delete(socket));
      server.emit("connection", socket);
    },
    listen: () =>
      new Promise<string>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}${basePath}`));
      }),
    usage: () => spend.snapshot(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
