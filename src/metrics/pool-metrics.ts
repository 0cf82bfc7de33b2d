// The warm pool's metrics, one series per pool (the operator's [[pool.entries]], and the fork
// pools of [pool] forksPerSnapshot while they exist: a dropped one's series end), labelled with
// its key ("opencode container memory=2Gi cpus=2 ..."): how many it keeps, how many are ready
// now, and how creates (forks) of its key were served.
import type { Registry } from "prom-client";

type PromClient = typeof import("prom-client");

/** One pool as the metrics read it, at scrape time. */
export interface WarmPoolStat {
  key: string;
  size: number;
  ready: number;
  hits: number;
  misses: number;
  reaped: number;
}

export function registerPoolMetrics(prom: PromClient, registry: Registry, read: () => WarmPoolStat[]): void {
  const registers = [registry];
  new prom.Gauge({
    name: "agentiso_warm_pool_size",
    help: "Workspaces the warm pool keeps ready, per pool (config [[pool.entries]])",
    labelNames: ["pool"],
    registers,
    collect() {
      this.reset();
      for (const p of read()) this.set({ pool: p.key }, p.size);
    },
  });
  new prom.Gauge({
    name: "agentiso_warm_pool_ready",
    help: "Pooled workspaces ready to hand out now, per pool",
    labelNames: ["pool"],
    registers,
    collect() {
      this.reset();
      for (const p of read()) this.set({ pool: p.key }, p.ready);
    },
  });
  new prom.Counter({
    name: "agentiso_warm_pool_creates_total",
    help: "workspace_create calls (workspace_fork forks, for a fork pool) whose settings match a pool, by result (hit: served from the pool; miss: none was ready, started cold)",
    labelNames: ["pool", "result"],
    registers,
    collect() {
      this.reset();
      for (const p of read()) {
        this.inc({ pool: p.key, result: "hit" }, p.hits);
        this.inc({ pool: p.key, result: "miss" }, p.misses);
      }
    },
  });
  new prom.Counter({
    name: "agentiso_warm_pool_reaped_total",
    help: "Pooled workspaces destroyed unclaimed after the pool's idle timeout",
    labelNames: ["pool"],
    registers,
    collect() {
      this.reset();
      for (const p of read()) this.inc({ pool: p.key }, p.reaped);
    },
  });
}
