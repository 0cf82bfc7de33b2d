// The results directory: report.json (machine), report.md (human), <task>.patch and
// <task>.events.ndjson (opencode's raw event stream) per task. Files are opened with
// O_NOFOLLOW: a symlink planted where a report file goes is refused, not written through.
import { constants } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { totalTokens } from "../llm/token-usage.js";
import type { OrchestrationReport } from "./orchestrator.js";
import { integrationMarkdown } from "./integration-markdown.js";

// Writes report.json, report.md and one patch per task; returns the report.json path.
export async function writeReport(dir: string, report: OrchestrationReport): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const task of report.tasks) {
    await writeResult(join(dir, `${task.name}.patch`), task.patch);
  }
  const json = {
    ...report,
    tasks: report.tasks.map((t) => ({ ...t, patchFile: `${t.name}.patch`, eventsFile: `${t.name}.events.ndjson` })),
  };
  const path = join(dir, "report.json");
  await writeResult(path, JSON.stringify(json, null, 2) + "\n");
  await writeResult(join(dir, "report.md"), markdown(report));
  if (report.review !== undefined) await writeResult(join(dir, report.review.file), report.review.text.trimEnd() + "\n");
  return path;
}

export async function writeTaskEvents(dir: string, task: string, ndjson: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeResult(join(dir, `${task}.events.ndjson`), ndjson);
}

const WRITE_NO_FOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

function writeResult(path: string, data: string): Promise<void> {
  return writeFile(path, data, { flag: WRITE_NO_FOLLOW });
}

function markdown(report: OrchestrationReport): string {
  const lines = [
    `# agentiso orchestration ${report.id}`,
    "",
    `Started ${report.startedAt}, took ${(report.durationMs / 1000).toFixed(1)} s${report.cancelled ? " — **cancelled**" : ""}.`,
    `Golden workspace \`${report.golden.workspace}\`@\`${report.golden.snapshot}\` at commit \`${report.golden.commit.slice(0, 12)}\`${report.golden.repo ? ` (from ${report.golden.repo})` : ""}.`,
    `Model: ${report.model.provider} / ${report.model.model}, key mode ${report.model.keyMode}.`,
    "",
    `**${report.totals.succeeded} succeeded, ${report.totals.failed} did not**; ${totalTokens(report.totals.tokens)} tokens, $${report.totals.costUsd.toFixed(4)}.`,
    "",
    "| task | status | tokens | files changed | duration | reason |",
    "|---|---|---|---|---|---|",
    ...report.tasks.map(
      (t) => `| ${t.name} | ${t.status} | ${totalTokens(t.tokens)} | ${t.filesChanged.length} | ${(t.durationMs / 1000).toFixed(1)} s | ${escapeCell(t.reason)} |`,
    ),
  ];
  if (report.merge.length > 0) {
    lines.push("", "## Branches", "", "| task | branch | result |", "|---|---|---|");
    for (const m of report.merge) {
      const result = m.ok ? `committed ${m.commit?.slice(0, 12) ?? ""}` : `failed: ${escapeCell(m.error ?? "")}`;
      lines.push(`| ${m.task} | \`${m.branch}\` | ${result}${m.overlapsWith.length ? ` (touches the same files as ${m.overlapsWith.join(", ")})` : ""} |`);
    }
  }
  lines.push(...integrationMarkdown(report.integration, report.review));
  lines.push("", "Patches: `<task>.patch`; opencode events: `<task>.events.ndjson`.", "");
  return lines.join("\n");
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ").slice(0, 300);
}
