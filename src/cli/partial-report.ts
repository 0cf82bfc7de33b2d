// When the daemon dies mid-orchestration the CLI still owes the user a report: it is built from
// the progress seen so far (src/orchestrator/partial-report.ts) and written where the user asked,
// and the workers left behind are destroyed through a fresh daemon.
import type { AgentisoError } from "../core/errors.js";
import { partialReport } from "../orchestrator/partial-report.js";
import { writeReport } from "../orchestrator/report-writer.js";
import type { CliContext } from "./cli-context.js";
import { contracts } from "../contract/registry.js";
import type { OrchestrateProgress } from "./orchestrate-progress.js";
import { ensureDaemon } from "./daemon-control.js";

/** destroyGolden: the golden workspace was built for this run and is not to be kept. */
export async function writePartialReport(ctx: CliContext, resultsDir: string, progress: OrchestrateProgress, error: AgentisoError, destroyGolden: boolean): Promise<string> {
  const report = partialReport(progress, error.message);
  await destroyLeftovers(ctx, [...progress.workers, ...(destroyGolden && progress.golden ? [progress.golden] : [])]);
  return writeReport(resultsDir, report);
}

// The workers of unfinished tasks outlived the daemon (it adopts them on restart): remove them.
async function destroyLeftovers(ctx: CliContext, workers: string[]): Promise<void> {
  if (workers.length === 0) return;
  try {
    // A new daemon: the old one died (the context's client points at its dead socket).
    const client = await ensureDaemon(ctx.config);
    for (const worker of workers) await client.run(contracts.workspaceDestroy, { workspace: worker }).catch(() => {});
  } catch (err) {
    ctx.err(`agentiso: could not destroy the workers ${workers.join(", ")}: ${(err as Error).message}\n`);
  }
}
