// The web dashboard of one daemon: its state (workspaces read from the engine when sent,
// orchestrations from progress events, metric series), the event stream and the listener.
// The daemon feeds it through engine events and the invoker's observe and watch hooks.
import type { AddressInfo } from "node:net";
import { dirname, isAbsolute } from "node:path";
import type { Logger } from "../core/logger.js";
import type { CallWatcher, InvocationOutcome, OperationInvoker } from "../operations/invoke.js";
import { DashboardAuth } from "./dashboard-auth.js";
import { DashboardServer, type DashboardAssets } from "./dashboard-server.js";
import { EventStream } from "./event-stream.js";
import { MetricSeries, SAMPLE_MS } from "./metric-series.js";
import { MAX_LISTED, OrchestrationBoard } from "./orchestration-board.js";
import type { RunSummary, WorkspaceRow } from "./page-shapes.js";
import { summaryFromReport } from "./report-summary.js";
import { readRunFile, resolveRunFile } from "./run-files.js";
import { RunHistory } from "./run-history.js";
import type { RunRouteDeps } from "./run-routes.js";

export interface DashboardOptions {
  workspaces: () => WorkspaceRow[];
  /** Re-reads the workspaces' memory and CPU use; called every USAGE_MS while a page is open. */
  refreshUsage?: () => Promise<void>;
  assets: () => DashboardAssets;
  logger: Logger;
  /** The run index (in the state dir): orchestrations listed across daemon restarts. */
  runIndexPath?: string;
  /** opencode's transcript of an events file (orchestrator/opencode/transcript.ts). */
  transcriptOf: RunRouteDeps["transcriptOf"];
  /** Whether an MCP client's bearer token may sign a browser in. */
  bearerSignIn?: (token: string) => boolean;
}

const USAGE_MS = 3000;
/** Reports read back at start to list earlier runs, one after the other (a task's detail reads up to 64 MiB). */
const MAX_LISTED_REPORT_BYTES = 16 * 1024 * 1024;
const EXEC_OPERATIONS = new Set(["exec", "exec_parallel"]);
const ROW_OPERATIONS = new Set(["port_forward", "workspace_lifecycle"]);

export class Dashboard {
  readonly auth = new DashboardAuth();
  private readonly stream: EventStream;
  private readonly board: OrchestrationBoard;
  private readonly series: MetricSeries;
  private readonly sampler: NodeJS.Timeout;
  private readonly usageTimer: NodeJS.Timeout;
  private readonly history: RunHistory;
  private readonly server: DashboardServer;
  private bound: AddressInfo | undefined;
  /** MCP's TCP listener, when the dashboard is served there too. */
  private alsoOn: AddressInfo | undefined;

  constructor(private readonly options: DashboardOptions) {
    this.board = new OrchestrationBoard(() => this.stream.changed("orchestrations"));
    this.series = new MetricSeries(() => options.workspaces().length);
    this.stream = new EventStream({
      workspaces: () => options.workspaces(),
      orchestrations: () => this.board.summary(),
      metrics: () => this.series.snapshot(),
    });
    this.series.sample();
    this.sampler = setInterval(() => {
      this.series.sample();
      this.stream.changed("metrics");
    }, SAMPLE_MS).unref();
    this.usageTimer = setInterval(() => void this.refreshUsage(), USAGE_MS).unref();
    this.history = new RunHistory(options.runIndexPath);
    this.server = new DashboardServer({ ...options, auth: this.auth, stream: this.stream, board: this.board, history: this.history, invoker: undefined });
  }

  // Lists the runs of earlier daemons from the run index and their report.json files (bounded).
  async restoreHistory(): Promise<void> {
    const records = (await this.history.load()).slice(0, MAX_LISTED);
    const runs: RunSummary[] = [];
    for (const record of records) {
      const path = resolveRunFile(record.dir, "report.json");
      const report = await readRunFile(path, MAX_LISTED_REPORT_BYTES).then((text) => JSON.parse(text) as Record<string, unknown>, (err: Error) => err);
      runs.push(report instanceof Error
        ? { id: record.id, startedMs: record.startedMs, state: "failed", stage: "no report", tasks: [], error: `no report.json in ${record.dir}: ${report.message}`.slice(0, 500) }
        : summaryFromReport(record.id, report, path));
    }
    this.board.restore(runs);
  }

  private async refreshUsage(): Promise<void> {
    if (this.stream.clientCount === 0 || !this.options.refreshUsage) return;
    await this.options.refreshUsage().catch((err: unknown) => this.options.logger.warn("cannot read workspace usage", { err }));
    this.stream.changed("workspaces");
  }

  // Engine events: a workspace changed state (or appeared, or went), a fork finished.
  workspacesChanged(): void {
    this.stream.changed("workspaces");
  }

  forked(): void {
    this.series.forked();
  }

  // The invoker's observe hook: exec latency for the charts.
  observe(name: string, outcome: InvocationOutcome): void {
    if (EXEC_OPERATIONS.has(name)) this.series.execFinished(outcome.durationMs);
    // what a row shows besides the state: exposed ports and lifecycle limits change without a state change
    if (ROW_OPERATIONS.has(name) && !outcome.error) this.stream.changed("workspaces");
  }

  // The invoker's watch hook: every orchestration gets a row on the board and an entry in the
  // run index: its results directory, known now for the operator's runs (an absolute path), else
  // from the report's path once the operation resolved and checked it (an MCP session's).
  watch(name: string, input?: unknown, session?: string): CallWatcher | undefined {
    if (name !== "orchestrate") return undefined;
    const run = this.board.begin();
    const startedMs = Date.now();
    const remember = (dir: string) => void this.history.record({ id: run.id, dir, startedMs }).catch((err: unknown) => this.options.logger.warn("cannot write the dashboard's run index", { err }));
    const resultsDir = (input as { resultsDir?: unknown } | undefined)?.resultsDir;
    if (session === undefined && typeof resultsDir === "string" && isAbsolute(resultsDir)) remember(resultsDir);
    return {
      progress: (event) => {
        run.progress(event);
        const tokens = (event as { type?: string; result?: { tokens?: Record<string, number> } }).type === "task_done" ? (event as { result: { tokens?: Record<string, number> } }).result.tokens : undefined;
        if (tokens) this.series.tokensUsed(Object.values(tokens).reduce((sum, n) => sum + n, 0));
      },
      end: (outcome) => {
        run.end(outcome);
        const reportPath = (outcome.result as { reportPath?: unknown } | undefined)?.reportPath;
        if (typeof reportPath === "string" && isAbsolute(reportPath) && dirname(reportPath) !== resultsDir) remember(dirname(reportPath));
      },
    };
  }

  // The invoker the page's actions run through (the daemon's one), once it exists.
  useInvoker(invoker: OperationInvoker): void {
    this.server.invoker = invoker;
  }

  async listen(address: { host: string; port: number }): Promise<AddressInfo> {
    this.bound = await this.server.listen(address);
    return this.bound;
  }

  // Requests of another listener (MCP's TCP one, at `address`) that are not its own: the page at `/`.
  get handler(): DashboardServer["handler"] {
    return this.server.handler;
  }

  servedOn(address: AddressInfo): void {
    this.alsoOn = address;
  }

  // The URL that signs a browser in once: on the dashboard's listener, else MCP's (undefined: neither).
  loginUrl(): string | undefined {
    const bound = this.bound ?? this.alsoOn;
    if (!bound) return undefined;
    const host = ["0.0.0.0", "::"].includes(bound.address) ? "127.0.0.1" : bound.address;
    const origin = `http://${host.includes(":") ? `[${host}]` : host}:${bound.port}`;
    return `${origin}/login?token=${this.auth.mintLogin()}`;
  }

  get port(): number | undefined {
    return this.bound?.port;
  }

  async close(): Promise<void> {
    clearInterval(this.sampler);
    clearInterval(this.usageTimer);
    await this.server.close();
    await this.history.settled();
  }
}
