// The keyless LLM proxy. Workers see only a loopback URL; their connections reach this
// host-side server (tunnelled by the guest agent, or over TCP in tests), which forwards the
// inference requests of the one configured provider (proxy-routes.ts: nothing else the key
// could do) with the real key, and meters and caps each task's tokens and cost. One provider
// gate per proxy bounds upstream concurrency and holds every task while the provider throttles.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { AgentisoError } from "../core/errors.js";
import { assertValidName } from "../core/names.js";
import { silentLogger, type Logger } from "../core/logger.js";
import { forwardRequest } from "./proxy-forward.js";
import { parseProviderBase, type LlmProviderConfig } from "./provider.js";
import type { RouteOptions } from "./proxy-routes.js";
import { ProviderGate } from "./provider-gate.js";
import { DEFAULT_THROTTLE_POLICY, type ThrottlePolicy } from "./throttle-policy.js";
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
  /** Upstream requests in flight at most, over all tasks; default no limit. */
  maxConcurrency?: number;
  /** How 429/503 answers are waited out; default DEFAULT_THROTTLE_POLICY. */
  throttle?: Partial<ThrottlePolicy>;
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
  /** Upstream answers 429/503 this task's requests got (waited out or passed on). */
  throttled(): number;
  /** Stops listening and drops this task's connections. */
  close(): Promise<void>;
}

export class LlmProxy {
  private readonly base: URL;
  private readonly logger: Logger;
  private readonly tasks = new Map<string, ProxyTask>();
  private readonly gate: ProviderGate;
  private readonly throttlePolicy: ThrottlePolicy;

  constructor(private readonly options: LlmProxyOptions) {
    this.base = parseProviderBase(options.provider);
    this.logger = (options.logger ?? silentLogger).child({ component: "llm-proxy", provider: this.base.origin });
    this.gate = new ProviderGate(options.maxConcurrency ?? Infinity);
    this.throttlePolicy = { ...DEFAULT_THROTTLE_POLICY, ...options.throttle };
  }

  // A handle that serves one task's connections and counts that task's spend.
  forTask(taskId: string, limits: SpendLimits = {}): ProxyTask {
    assertValidName(taskId, "task id");
    if (this.tasks.has(taskId)) throw new AgentisoError("CONFLICT", `llm proxy already serves task ${taskId}`);
    if (limits.maxCostUsd !== undefined && !this.options.prices) {
      throw new AgentisoError("INVALID_INPUT", "a maxCostUsd cap needs token prices: pass prices to the LlmProxy");
    }
    const spend = new TaskSpend(taskId, limits, this.options.prices);
    const throttle = { gate: this.gate, policy: this.throttlePolicy, counter: { count: 0 } };
    const ctx = { provider: this.options.provider, base: this.base, spend, logger: this.logger, upstreamTimeoutMs: this.options.upstreamTimeoutMs ?? 600_000, routes: this.options.routes ?? {}, throttle };
    const server = createServer((req, res) => forwardRequest(req, res, ctx));
    server.on("clientError", (_err, socket) => socket.destroy());
    const task = makeTask(taskId, server, { spend, throttled: throttle.counter }, this.base.pathname, () => this.tasks.delete(taskId));
    this.tasks.set(taskId, task);
    return task;
  }

  // Closes every task handle still open.
  async close(): Promise<void> {
    await Promise.all([...this.tasks.values()].map((task) => task.close()));
  }
}

function makeTask(taskId: string, server: Server, counts: { spend: TaskSpend; throttled: { count: number } }, basePath: string, forget: () => void): ProxyTask {
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
    usage: () => counts.spend.snapshot(),
    throttled: () => counts.throttled.count,
    close,
    [Symbol.asyncDispose]: close,
  };
}
