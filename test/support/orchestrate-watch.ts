// Watching a running orchestration from outside: find a task's worker and wait until opencode
// runs in it (the readiness signal the fault and secret tests act on).
import type { CliHarness } from "./cli-harness.js";

interface Ws {
  id: string;
  name: string;
  pid?: number;
}

// Resolves with the worker of `task` once `opencode` is running inside it; fails early when the
// orchestration ends first (`finished` resolves).
export async function waitForOpencode(cli: CliHarness, task: string, finished: Promise<unknown>, timeoutMs = 240_000): Promise<Ws> {
  const deadline = Date.now() + timeoutMs;
  let ended: unknown;
  void finished.then((value) => (ended = value ?? "ended"));
  while (Date.now() < deadline) {
    if (ended !== undefined) throw new Error(`the orchestration ended before opencode ran for ${task}: ${cli.explain(JSON.stringify(ended))}`);
    const listed = await cli.run(["ws", "ls", "--json"]);
    const worker = listed.code === 0 ? (JSON.parse(listed.stdout) as Ws[]).find((w) => w.name.endsWith(`-${task}`)) : undefined;
    if (worker) {
      const probe = await cli.run(["ws", "exec", worker.name, "--", "pgrep", "-x", "opencode"]);
      if (probe.code === 0) return worker;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`opencode never started for task ${task}`);
}
