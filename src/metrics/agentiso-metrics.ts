// The daemon's Prometheus metrics, on a registry of its own (never prom-client's global one,
// so tests and embedders can run several). Labels are bounded sets only — state, runtime,
// operation name, error code, exec outcome — never a workspace id or a session. The one
// exceptions, port-forward and network-policy traffic, are labelled with the workspace's name:
// read at each scrape, they have series only for live workspaces that forward a port or have
// a network, and they go with the workspace.
import type { Counter, Histogram, Registry } from "prom-client";
import { registerPoolMetrics, type WarmPoolStat } from "./pool-metrics.js";

type PromClient = typeof import("prom-client");

export interface MetricsOptions {
  /** Every workspace state, so each gets a series even at zero. */
  states: readonly string[];
  /** Current number of workspaces per state (read at scrape time). */
  countByState: () => Record<string, number>;
  /** Per workspace with port forwards: bytes through them since the daemon started, connections open now. */
  portForwardTraffic?: () => PortForwardTraffic[];
  /** Per warm pool: its size, what is ready, hits and misses (read at scrape time). */
  warmPools?: () => WarmPoolStat[];
  /** Per workspace with a network: what its policy admitted and refused, and its DNS gate's answers (read at scrape). */
  networkTraffic?: () => Promise<NetworkTrafficRow[]>;
  /** Process metrics (cpu, memory, event loop, fds); default true. */
  processMetrics?: boolean;
}

export interface PortForwardTraffic {
  workspace: string;
  bytesToWorkspace: number;
  bytesFromWorkspace: number;
  openConnections: number;
}

export interface NetworkTrafficRow {
  workspace: string;
  /** New connections admitted by an allowlist, and connections or packets refused, since the policy was last applied. */
  allowed: number;
  refused: number;
  /** Names the allowlist's DNS gate answered and refused. */
  namesAnswered: number;
  namesRefused: number;
}

/** What an operation did, as the control API and the MCP servers report it. */
export interface OperationOutcome {
  durationMs: number;
  error?: { code: string };
  result?: unknown;
  /** Set when an MCP session made the call (it then counts as a tool call). */
  session?: string;
}

/** The parts of an orchestration report's task the metrics read. */
interface OrchestratedTask {
  status: string;
  durationMs: number;
  tokens: Record<string, number>;
}

const LINT_FAILING_DEFAULTS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];
const EXEC_OPERATIONS = new Set(["exec", "exec_parallel"]);

// Loads prom-client on demand (the CLI bundle must not pay for it on every start) and builds the metrics.
export async function createMetrics(options: MetricsOptions): Promise<AgentisoMetrics> {
  const loaded = await import("prom-client");
  // prom-client is CommonJS: bundled into a chunk of the CLI, its exports arrive under `default`
  const prom = "Registry" in loaded ? loaded : (loaded as unknown as { default: PromClient }).default;
  return new AgentisoMetrics(prom, options);
}

export class AgentisoMetrics {
  readonly registry: Registry;
  private readonly bootSeconds: Histogram<"runtime">;
  private readonly forkSeconds: Histogram;
  private readonly thrashKillsTotal: Counter<"runtime">;
  private readonly reapedTotal: Counter<"action" | "reason">;
  private readonly operationSeconds: Histogram<"operation">;
  private readonly execTotal: Counter<"outcome">;
  private readonly errorsTotal: Counter<"operation" | "code">;
  private readonly toolCallsTotal: Counter<"tool">;
  private readonly opencodeTasksTotal: Counter<"status">;
  private readonly opencodeTokensTotal: Counter<"kind">;
  private readonly opencodeTaskSeconds: Histogram<"status">;

  constructor(prom: PromClient, options: MetricsOptions) {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = prom;
    this.registry = new Registry();
    const registers = [this.registry];
    new Gauge({
      name: "agentiso_workspaces",
      help: "Workspaces by lifecycle state",
      labelNames: ["state"],
      registers,
      collect() {
        const counts = options.countByState();
        for (const state of options.states) this.set({ state }, counts[state] ?? 0);
      },
    });
    new Counter({
      name: "agentiso_port_forward_bytes_total",
      help: "Bytes through a workspace's port forwards since the daemon started, by direction (to_workspace, from_workspace)",
      labelNames: ["workspace", "direction"],
      registers,
      collect() {
        this.reset();
        for (const t of options.portForwardTraffic?.() ?? []) {
          this.inc({ workspace: t.workspace, direction: "to_workspace" }, t.bytesToWorkspace);
          this.inc({ workspace: t.workspace, direction: "from_workspace" }, t.bytesFromWorkspace);
        }
      },
    });
    new Gauge({
      name: "agentiso_port_forward_connections",
      help: "Connections open now through a workspace's port forwards",
      labelNames: ["workspace"],
      registers,
      collect() {
        this.reset();
        for (const t of options.portForwardTraffic?.() ?? []) this.set({ workspace: t.workspace }, t.openConnections);
      },
    });
    registerPoolMetrics(prom, this.registry, () => options.warmPools?.() ?? []);
    this.networkMetrics(prom, options);
    this.bootSeconds = new Histogram({ name: "agentiso_boot_duration_seconds", help: "Time from start request to a ready guest agent", labelNames: ["runtime"], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60], registers });
    this.forkSeconds = new Histogram({ name: "agentiso_fork_duration_seconds", help: "Time to fork one workspace from a snapshot (until it runs)", buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers });
    this.thrashKillsTotal = new Counter({ name: "agentiso_thrash_kills_total", help: "Processes killed for thrashing at their workspace's memory limit (the kernel would not OOM-kill them)", labelNames: ["runtime"], registers });
    this.reapedTotal = new Counter({ name: "agentiso_workspaces_reaped_total", help: "Workspaces stopped or destroyed because their ttl or idle timeout ran out", labelNames: ["action", "reason"], registers });
    for (const action of ["stop", "destroy"]) for (const reason of ["ttl", "idle"]) this.reapedTotal.inc({ action, reason }, 0); // every series from the start
    this.operationSeconds = new Histogram({ name: "agentiso_operation_duration_seconds", help: "Duration of operations (MCP tools, control API, CLI)", labelNames: ["operation"], buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600], registers });
    this.execTotal = new Counter({ name: "agentiso_exec_total", help: "Commands run with exec/exec_parallel by outcome (ok: exit 0, nonzero, timeout, error: not run)", labelNames: ["outcome"], registers });
    this.errorsTotal = new Counter({ name: "agentiso_errors_total", help: "Failed operations by operation and error code", labelNames: ["operation", "code"], registers });
    this.toolCallsTotal = new Counter({ name: "agentiso_tool_calls_total", help: "MCP tool calls by tool", labelNames: ["tool"], registers });
    this.opencodeTasksTotal = new Counter({ name: "agentiso_opencode_tasks_total", help: "Orchestrated opencode tasks by final status", labelNames: ["status"], registers });
    this.opencodeTokensTotal = new Counter({ name: "agentiso_opencode_tokens_total", help: "LLM tokens billed for orchestrated tasks, by kind", labelNames: ["kind"], registers });
    this.opencodeTaskSeconds = new Histogram({ name: "agentiso_opencode_task_duration_seconds", help: "Wall time of one orchestrated task (fork to collected result)", labelNames: ["status"], buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800], registers });
    if (options.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named *_total fail `promtool check metrics`; the same values exist without the suffix.
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    }
  }

  // Connections and DNS names per workspace: one read of every namespace per scrape, shared by both.
  private networkMetrics(prom: PromClient, options: MetricsOptions): void {
    let rows: Promise<NetworkTrafficRow[]> | undefined;
    const read = () => (rows ??= (options.networkTraffic?.() ?? Promise.resolve([])).finally(() => setImmediate(() => (rows = undefined))));
    const perVerdict = (name: string, help: string, counts: Record<string, (row: NetworkTrafficRow) => number>) =>
      new prom.Counter({
        name,
        help,
        labelNames: ["workspace", "verdict"],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const row of await read()) {
            for (const [verdict, count] of Object.entries(counts)) this.inc({ workspace: row.workspace, verdict }, count(row));
          }
        },
      });
    perVerdict(
      "agentiso_network_connections_total",
      "Connections of a workspace by verdict: allowed (admitted by its allowlist) or refused (by any rule), since its policy was last applied",
      { allowed: (row) => row.allowed, refused: (row) => row.refused },
    );
    perVerdict("agentiso_network_dns_answers_total", "Names a workspace asked agentiso's DNS gate (allowlist mode) by verdict: answered or refused", {
      answered: (row) => row.namesAnswered,
      refused: (row) => row.namesRefused,
    });
  }

  // Observers for the engine's events hooks (EngineDeps.events).
  engineEvents() {
    return {
      workspaceStarted: (info: { runtime: string; durationMs: number }) => this.bootSeconds.observe({ runtime: info.runtime }, info.durationMs / 1000),
      workspaceForked: (info: { durationMs: number }) => this.forkSeconds.observe(info.durationMs / 1000),
      thrashKill: (info: { runtime: string }) => this.thrashKillsTotal.inc({ runtime: info.runtime }),
      workspaceReaped: (info: { action: string; reason: string }) => this.reapedTotal.inc({ action: info.action, reason: info.reason }),
    };
  }

  // Records one operation call (the control API's and the MCP server's observe hook).
  observeOperation(name: string, outcome: OperationOutcome): void {
    this.operationSeconds.observe({ operation: name }, outcome.durationMs / 1000);
    if (outcome.session !== undefined) this.toolCallsTotal.inc({ tool: name });
    if (outcome.error) this.errorsTotal.inc({ operation: name, code: outcome.error.code });
    if (EXEC_OPERATIONS.has(name)) for (const result of execOutcomes(name, outcome)) this.execTotal.inc({ outcome: result });
    if (name === "orchestrate" && !outcome.error) this.observeTasks(outcome.result);
  }

  private observeTasks(result: unknown): void {
    const tasks = (result as { report?: { tasks?: OrchestratedTask[] } } | undefined)?.report?.tasks ?? [];
    for (const task of tasks) {
      this.opencodeTasksTotal.inc({ status: task.status });
      this.opencodeTaskSeconds.observe({ status: task.status }, task.durationMs / 1000);
      for (const [kind, count] of Object.entries(task.tokens)) if (count > 0) this.opencodeTokensTotal.inc({ kind }, count);
    }
  }

  // The exposition text for a scrape.
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function execOutcomes(name: string, outcome: OperationOutcome): string[] {
  if (outcome.error) return ["error"];
  if (name === "exec") return [execOutcome(outcome.result)];
  const runs = Array.isArray(outcome.result) ? (outcome.result as Array<{ ok?: boolean; result?: unknown }>) : [];
  return runs.map((run) => (run.ok ? execOutcome(run.result) : "error"));
}

function execOutcome(result: unknown): string {
  const exec = result as { exitCode?: number | null; timedOut?: boolean } | undefined;
  if (exec?.timedOut) return "timeout";
  return exec?.exitCode === 0 ? "ok" : "nonzero";
}
