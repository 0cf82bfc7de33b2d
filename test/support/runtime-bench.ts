// Start/stop/switch timings of the container runtime (the numbers in docs/runtime-container.md).
// Run as root: `npx tsx test/support/runtime-bench.ts [rounds]`. A bench/parts/ entry can wrap it.
import { percentile } from "../../bench/stats.js";
import { RuntimeHarness, type StartedWorkspace } from "./runtime-harness.js";

// Runs `rounds` start → exec → switch → stop cycles in both modes and returns p50/p90 lines.
export async function benchContainerRuntime(rounds = 10): Promise<string[]> {
  const harness = await RuntimeHarness.create();
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
  return [...samples].map(([key, v]) => `${key.padEnd(26)} p50 ${percentile(v, 50).toFixed(0)} ms  p90 ${percentile(v, 90).toFixed(0)} ms`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchContainerRuntime(Number(process.argv[2] ?? 10))) console.log(line);
}
