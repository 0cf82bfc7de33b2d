// Start/stop/switch timings of the container runtime (the numbers in docs/runtime-container.md).
// Run as root: `npx tsx test/support/runtime-bench.ts [rounds]`. A bench/parts/ entry can wrap it.
import { percentile } from "../../bench/stats.js";
import type { OciRuntimePreference } from "../../src/runtimes/container/oci-runtime-choice.js";
import { RuntimeHarness, type StartedWorkspace } from "./runtime-harness.js";

// Runs `rounds` start → exec → switch → stop cycles in both modes under one OCI runtime, the agent
// on this node as the daemon runs it; the samples of each step, in ms.
export async function benchContainerRuntime(rounds = 10, ociRuntime: OciRuntimePreference = "auto"): Promise<Map<string, number[]>> {
  const harness = await RuntimeHarness.create({ ociRuntime, hostNodePath: process.execPath });
  const samples = new Map<string, number[]>();
  const time = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await fn();
    samples.set(key, [...(samples.get(key) ?? []), performance.now() - start]);
    return result;
  };
  let leaked: string[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const ws: StartedWorkspace = await time("start (none)", () => harness.start({ network: "none" }));
      await time("first exec via agent", () => harness.sh(ws.id, "true"));
      await time("exec via agent", () => harness.sh(ws.id, "true"));
      await time("setNetwork none → egress", () => harness.runtime.setNetwork(ws.id, "egress"));
      await time("setNetwork egress → none", () => harness.runtime.setNetwork(ws.id, "none"));
      await time("stop (none)", () => harness.stop(ws.id));
      const egress = await time("start (egress)", () => harness.start({ network: "egress" }));
      await time("stop (egress)", () => harness.stop(egress.id));
    }
  } finally {
    leaked = await harness.close();
  }
  if (leaked.length > 0) throw new Error(`leaked: ${leaked.join(", ")}`);
  return samples;
}

// One line per step: p50/p90, and with a baseline (the same steps under another runtime), the p50 ratio.
export function benchLines(samples: Map<string, number[]>, baseline?: Map<string, number[]>): string[] {
  return [...samples].map(([key, v]) => {
    const base = baseline?.get(key);
    const ratio = base ? `  (${(percentile(v, 50) / percentile(base, 50)).toFixed(2)}x of ${percentile(base, 50).toFixed(0)} ms)` : "";
    return `${key.padEnd(26)} p50 ${percentile(v, 50).toFixed(0)} ms  p90 ${percentile(v, 90).toFixed(0)} ms${ratio}`;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of benchLines(await benchContainerRuntime(Number(process.argv[2] ?? 10)))) console.log(line);
}
