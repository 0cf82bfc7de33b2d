// What the daemon serves besides the control API: MCP over Streamable HTTP (unix socket route
// /mcp, optional TCP address where each client logs in with its token), Prometheus /metrics,
// and the admission of calls (rate limits per client by cost; quotas of the host, clients, sessions). Created
// before the engine (its events feed the metrics), started after it.
import { createHash, timingSafeEqual } from "node:crypto";
import { networkTrafficByWorkspace } from "./network-traffic.js";
import { join } from "node:path";
import { McpClientSchema, type Config, type McpClientConfig } from "../config/config.js";
import { AgentisoError, isAgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Engine } from "../engine/engine.js";
import type { EngineEvents } from "../engine/engine-deps.js";
import { WORKSPACE_STATES } from "../engine/workspace-state.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { RouteHandler } from "../api/api-server.js";
import { OperationInvoker, type AdmitHook, type InvocationOutcome } from "../operations/invoke.js";
import { CallAdmission } from "../operations/call-admission.js";
import { quotasOf } from "./quotas-of.js";
import { HttpMcpEndpoint, type McpClientCredential } from "../mcp/http-mcp.js";
import { RateLimiter } from "../operations/rate-limiter.js";
import type { OperationServices } from "../operations/operation.js";
import { RESERVED_CLIENT_NAMES } from "../operations/session-scope.js";
import { createMetrics, type AgentisoMetrics } from "../metrics/agentiso-metrics.js";
import { parseListenAddress } from "../metrics/listen-address.js";
import { startMetricsServer, type MetricsServer } from "../metrics/metrics-server.js";
import { createImageLibrary, hostOpencodeBinary } from "./engine-factory.js";
import { packageVersion } from "./package-root.js";
import { Dashboard } from "../dashboard/dashboard.js";
import { dashboardAssets } from "./dashboard-assets.js";
import { WorkspaceUsageSampler } from "./workspace-usage.js";
import { dashboardLoginRoute, workspaceRows } from "./dashboard-wiring.js";
import { transcriptOf } from "../orchestrator/opencode/transcript.js";

export class DaemonFrontDoors {
  readonly events: EngineEvents;
  private readonly metrics: AgentisoMetrics;
  private readonly admission: CallAdmission;
  private readonly clients: readonly McpClientCredential[];
  private engine: Engine<GuestClient> | undefined;
  private mcp: HttpMcpEndpoint | undefined;
  private started: OperationInvoker | undefined;
  private metricsServer: MetricsServer | undefined;
  private mcpTcpPort: number | undefined;
  private readonly dashboard: Dashboard;

  // Builds the metrics registry (prom-client is loaded here, not at CLI start) and the rate limiter.
  static async create(config: Config, logger: Logger): Promise<DaemonFrontDoors> {
    const doors: { ref?: DaemonFrontDoors } = {};
    const metrics = await createMetrics({
      states: WORKSPACE_STATES,
      countByState: () => doors.ref?.countByState() ?? {},
      portForwardTraffic: () => doors.ref?.engine?.ports.trafficByWorkspace() ?? [],
      warmPools: () => doors.ref?.engine?.pool?.stats() ?? [],
      networkTraffic: () => networkTrafficByWorkspace(doors.ref?.engine),
    });
    return (doors.ref = new DaemonFrontDoors(config, logger, metrics));
  }

  private constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    metrics: AgentisoMetrics,
  ) {
    this.metrics = metrics;
    const usage = new WorkspaceUsageSampler(() => this.engine?.deps.storage.usageOfAll() ?? Promise.resolve(new Map()));
    const clients = mcpClients(config);
    this.clients = clients;
    this.dashboard = new Dashboard({
      workspaces: () => workspaceRows(this.engine, usage),
      refreshUsage: () => usage.refresh(this.engine?.workspaces.list() ?? []),
      assets: dashboardAssets,
      logger,
      runIndexPath: join(config.home, "dashboard-runs.json"),
      transcriptOf,
      bearerSignIn: dashboardTokens(clients),
    });
    const metered = this.metrics.engineEvents();
    this.events = {
      ...metered,
      workspaceForked: (info) => (metered.workspaceForked(info), this.dashboard.forked()),
      stateChanged: () => this.dashboard.workspacesChanged(),
    };
    this.admission = new CallAdmission({
      limiter: new RateLimiter(config.limits),
      quotas: quotasOf(config, clients),
      engine: () => this.engine,
      defaults: { memoryBytes: config.defaults.memory, diskBytes: config.defaults.disk },
    });
  }

  // The operation services of this daemon (transfer dir, image lookup) around an engine.
  servicesFor(engine: Engine<GuestClient>): OperationServices {
    const library = createImageLibrary(this.config, this.logger);
    return {
      engine,
      transferDir: this.config.daemon.transferDir ?? join(this.config.home, "transfer"),
      providerUrls: this.config.model,
      caps: this.config.caps,
      sessionPublicPorts: this.config.net.sessionPublicPorts,
      netExceptions: this.config.net.allow,
      imageAvailable: (name) => library.get(name).then(() => true, (err: unknown) => (isAgentisoError(err, "NOT_FOUND") ? false : Promise.reject(err))),
      opencodeBinary: hostOpencodeBinary(),
      lifecycleDefaults: this.config.lifecycle,
    };
  }

  readonly admit: AdmitHook = (operation, input, session) => this.admission.admit(operation, input, session);
  readonly observe = (name: string, outcome: InvocationOutcome): void => {
    this.metrics.observeOperation(name, outcome);
    this.dashboard.observe(name, outcome);
  };

  // Starts /metrics and MCP (unix route; TCP when configured) once the engine is open.
  async start(engine: Engine<GuestClient>, services: OperationServices): Promise<void> {
    this.engine = engine;
    this.started = new OperationInvoker({ services, logger: this.logger, hooks: { admit: this.admit, observe: this.observe, watch: (name, session, input) => this.dashboard.watch(name, input, session) } });
    this.dashboard.useInvoker(this.started);
    void this.dashboard.restoreHistory().catch((err: unknown) => this.logger.warn("cannot list earlier orchestrations", { err }));
    this.mcp = new HttpMcpEndpoint({ invoker: this.started, logger: this.logger, version: packageVersion() });
    const { metricsListen, mcpListen, dashboardListen } = this.config.daemon;
    if (dashboardListen !== "off") {
      const bound = await this.dashboard.listen(parseListenAddress(dashboardListen, "daemon.dashboardListen"));
      this.logger.info("dashboard listening", { host: bound.address, port: bound.port });
    }
    if (metricsListen !== undefined) {
      this.metricsServer = await startMetricsServer(this.metrics, parseListenAddress(metricsListen, "daemon.metricsListen"), this.logger);
      this.logger.info("metrics listening", { address: this.metricsServer.address });
    }
    if (mcpListen !== undefined) {
      if (this.clients.length === 0) {
        throw new AgentisoError("INVALID_INPUT", "daemon.mcpListen needs a client token: [[daemon.clients]] or daemon.mcpToken (AGENTISO_MCP_TOKEN); MCP over TCP always requires a bearer token");
      }
      // the dashboard's page is served at / of the MCP listener too (docs/dashboard.md)
      const tcp = await this.mcp.listenTcp(parseListenAddress(mcpListen, "daemon.mcpListen"), this.clients, dashboardListen === "off" ? undefined : this.dashboard.handler);
      this.mcpTcpPort = tcp.port;
      if (dashboardListen !== "off") this.dashboard.servedOn(tcp);
      this.logger.info("mcp listening", { port: this.mcpTcpPort });
    }
  }

  // The one invoker of this daemon's operations (control API and MCP alike); exists once started.
  get invoker(): OperationInvoker {
    if (!this.started) throw new AgentisoError("INTERNAL", "the daemon's front doors are not started");
    return this.started;
  }

  get routes(): RouteHandler[] {
    return [dashboardLoginRoute(this.dashboard), ...(this.mcp ? [this.mcp.route] : [])];
  }

  // Extra fields of the health answer: where /metrics and TCP MCP actually listen.
  health(): Record<string, unknown> {
    const address = this.metricsServer?.address;
    return {
      ...(address && { metrics: { host: address.address, port: address.port } }),
      ...(this.mcpTcpPort !== undefined && { mcpPort: this.mcpTcpPort }),
      ...(this.dashboard.port !== undefined && { dashboardPort: this.dashboard.port }),
    };
  }

  async close(): Promise<void> {
    await this.mcp?.close();
    await this.metricsServer?.close();
    await this.dashboard.close();
  }

  private countByState(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const record of this.engine?.workspaces.list() ?? []) counts[record.state] = (counts[record.state] ?? 0) + 1;
    return counts;
  }
}

// Whether a token is one of the clients' allowed the dashboard (every token compared: constant time).
function dashboardTokens(clients: readonly McpClientConfig[]): (token: string) => boolean {
  const allowed = clients.filter((c) => c.dashboard).map((c) => createHash("sha256").update(c.token).digest());
  return (token) => {
    const given = createHash("sha256").update(token).digest();
    return allowed.reduce((found, hash) => timingSafeEqual(given, hash) || found, false);
  };
}

// The TCP MCP clients: [[daemon.clients]], and daemon.mcpToken as a client named "default".
function mcpClients(config: Config): McpClientConfig[] {
  const { clients, mcpToken } = config.daemon;
  const all = [...clients, ...(mcpToken === undefined ? [] : [McpClientSchema.parse({ name: "default", token: mcpToken, dashboard: true })])];
  for (const [index, client] of all.entries()) {
    const clash = all.findIndex((other) => other.name === client.name || other.token === client.token);
    if (RESERVED_CLIENT_NAMES.includes(client.name)) throw new AgentisoError("INVALID_INPUT", `MCP client name ${client.name} is reserved: choose another in [[daemon.clients]]`);
    if (clash !== index) throw new AgentisoError("INVALID_INPUT", `MCP clients ${all[clash]!.name} and ${client.name} share a name or a token (daemon.mcpToken is the client "default"): each needs its own`);
  }
  return all;
}
