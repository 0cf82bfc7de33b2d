// The web dashboard of one daemon: its state (workspaces read from the engine when sent,
// orchestrations from progress events, metric series), the event stream and the listener.
// The daemon feeds it through engine events and the invoker's observe and watch hooks.
import type { AddressInfo } from "node:net";
import type { Logger } from "../core/logger.js";
import type { CallWatcher, InvocationOutcome, OperationInvoker } from "../operations/invoke.js";
import { DashboardAuth } from "./dashboard-auth.js";
import { DashboardServer, type DashboardAssets } from "./dashboard-server.js";
import { EventStream } from "./event-stream.js";
import { MetricSeries, SAMPLE_MS } from "./metric-series.js";
import { OrchestrationBoard } from "./orchestration-board.js";
import type { WorkspaceRow } from "./page-shapes.js";

export interface DashboardOptions {
  workspaces: () => WorkspaceRow[];
  /** Re-reads the workspaces' memory and CPU use; called every USAGE_MS while a page is open. */
  refreshUsage?: () => Promise<void>;
  assets: () => DashboardAssets;
  logger: Logger;
}

const USAGE_MS = 3000;
const EXEC_OPERATIONS = new Set(["exec", "exec_parallel"]);
const ROW_OPERATIONS = new Set(["port_forward", "workspace_lifecycle"]);

export class Dashboard {
  readonly auth = new DashboardAuth();
  private readonly stream: EventStream;
  private readonly board: OrchestrationBoard;
  private readonly series: MetricSeries;
  private readonly sampler: NodeJS.Timeout;
  private readonly usageTimer: NodeJS.Timeout;
  private server: DashboardServer | undefined;
  private bound: AddressInfo | undefined;

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

  // The invoker's watch hook: every orchestration gets a row on the board.
  watch(name: string): CallWatcher | undefined {
    if (name !== "orchestrate") return undefined;
    const run = this.board.begin();
    return {
      progress: (event) => {
        run.progress(event);
        const tokens = (event as { type?: string; result?: { tokens?: Record<string, number> } }).type === "task_done" ? (event as { result: { tokens?: Record<string, number> } }).result.tokens : undefined;
        if (tokens) this.series.tokensUsed(Object.values(tokens).reduce((sum, n) => sum + n, 0));
      },
      end: (outcome) => run.end(outcome),
    };
  }

  async listen(address: { host: string; port: number }, invoker: OperationInvoker): Promise<AddressInfo> {
    this.server = new DashboardServer({ auth: this.auth, stream: this.stream, board: this.board, invoker, assets: this.options.assets, logger: this.options.logger });
    this.bound = await this.server.listen(address);
    return this.bound;
  }

  // The URL that signs a browser in once (undefined when the dashboard does not listen).
  loginUrl(): string | undefined {
    if (!this.bound) return undefined;
    const host = ["0.0.0.0", "::"].includes(this.bound.address) ? "127.0.0.1" : this.bound.address;
    const origin = `http://${host.includes(":") ? `[${host}]` : host}:${this.bound.port}`;
    return `${origin}/login?token=${this.auth.mintLogin()}`;
  }

  get port(): number | undefined {
    return this.bound?.port;
  }

  async close(): Promise<void> {
    clearInterval(this.sampler);
    clearInterval(this.usageTimer);
    await this.server?.close();
  }
}
