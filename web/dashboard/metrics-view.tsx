// Metrics: the daemon's series over the last hour (src/dashboard/metric-series.ts), one small
// uPlot chart each, redrawn in place as samples arrive (fixed size: no layout jump).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { SeriesSnapshot } from "./types";

const CHARTS: Array<{ key: Exclude<keyof SeriesSnapshot, "t">; title: string; unit: string }> = [
  { key: "workspaces", title: "workspaces", unit: "" },
  { key: "forksPerSecond", title: "forks/s", unit: "/s" },
  { key: "execMs", title: "exec latency (mean)", unit: "ms" },
  { key: "tokensPerMinute", title: "tokens/min", unit: "" },
];

function Chart({ title, t, values }: { title: string; t: number[]; values: Array<number | null> }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    const stroke = getComputedStyle(document.body).getPropertyValue("--accent").trim() || "#3b82f6";
    const axis = { stroke: getComputedStyle(document.body).getPropertyValue("--fg").trim() || "#888", grid: { stroke: "rgba(128,128,128,0.2)" } };
    plot.current = new uPlot({ width: 420, height: 160, series: [{}, { label: title, stroke, width: 2 }], axes: [axis, axis], legend: { show: false } }, [[], []], box.current!);
    return () => plot.current?.destroy();
  }, [title]);
  useEffect(() => plot.current?.setData([t, values]), [t, values]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} class="plot" />
    </figure>
  );
}

export function MetricsView({ series }: { series: SeriesSnapshot | undefined }) {
  if (!series) return <p class="muted">waiting for the daemon…</p>;
  return (
    <section aria-label="Metrics" class="charts">
      {CHARTS.map((c) => <Chart key={c.key} title={c.title} t={series.t} values={series[c.key]} />)}
      <p class="muted">sampled every 10 s, last hour; {series.t.length} samples</p>
    </section>
  );
}
