// The dashboard's charts: a few series sampled from the daemon's own events every SAMPLE_MS
// over the last hour (a fixed ring: POINTS samples each), so the page draws history at once
// and the daemon's memory does not grow with uptime.

import type { SeriesSnapshot } from "./page-shapes.js";

export const SAMPLE_MS = 10_000;
export const POINTS = 360;

export class MetricSeries {
  private readonly t: number[] = [];
  private readonly workspaces: number[] = [];
  private readonly forks: number[] = [];
  private readonly exec: Array<number | null> = [];
  private readonly tokens: number[] = [];
  private forkCount = 0;
  private execTotalMs = 0;
  private execCount = 0;
  private tokenCount = 0;
  private lastMs: number;

  constructor(private readonly countWorkspaces: () => number, private readonly now: () => number = Date.now) {
    this.lastMs = now();
  }

  forked(): void {
    this.forkCount++;
  }

  execFinished(durationMs: number): void {
    this.execTotalMs += durationMs;
    this.execCount++;
  }

  tokensUsed(count: number): void {
    this.tokenCount += count;
  }

  // Closes the current interval into one point of each series.
  sample(): void {
    const now = this.now();
    const seconds = Math.max(0.001, (now - this.lastMs) / 1000);
    this.lastMs = now;
    push(this.t, Math.round(now / 1000));
    push(this.workspaces, this.countWorkspaces());
    push(this.forks, round(this.forkCount / seconds));
    push(this.exec, this.execCount === 0 ? null : round(this.execTotalMs / this.execCount));
    push(this.tokens, round((this.tokenCount * 60) / seconds));
    this.forkCount = this.execCount = this.execTotalMs = this.tokenCount = 0;
  }

  snapshot(): SeriesSnapshot {
    return { t: this.t, workspaces: this.workspaces, forksPerSecond: this.forks, execMs: this.exec, tokensPerMinute: this.tokens };
  }
}

function push<T>(series: T[], value: T): void {
  series.push(value);
  if (series.length > POINTS) series.shift();
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
