// The results directory: report.json (machine), report.md (human), <task>.patch and
// <task>.events.ndjson (opencode's raw event stream) per task. Files are opened with
// O_NOFOLLOW: a symlink planted where a report file goes is refused, not written through.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { totalTokens } from "../llm/token-usage.js";
import type { OrchestrationReport } from "./orchestrator.js";
import { writeResult } from "./results-file.js";
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

function markdown(report: OrchestrationReport): string {
  const lines = [
    `# agentiso orchestration ${report.id}`,
    "",
    `Started ${report.startedAt}, took ${(report.durationMs / 1000).toFixed(1)} s${report.cancelled ? " — **cancelled**" : ""}.`,
    `Golden workspace \`${report.golden.workspace}\`@\`${report.golden.snapshot}\` at commit \`${report.golden.commit.slice(0, 12)}\`${report.golden.repo ? ` (from ${report.golden.repo})` : ""}.`,
    `Model: ${report.model.provider} / ${report.model.model}, key mode ${report.model.keyMode}.`,
    "",
    `**${report.totals.succeeded} succeeded, ${report.totals.failed} did not**${unverifiedNote(report)}; ${totalTokens(report.totals.tokens)} tokens, $${report.totals.costUsd.toFixed(4)}.`,
    "",
    "| task | status | tokens | files changed | duration | reason |",
    "|---|---|---|---|---|---|",
    ...report.tasks.map(
      (t) => `| ${t.name} | ${t.status} | ${totalTokens(t.tokens)} | ${t.filesChanged.length} | ${(t.durationMs / 1000).toFixed(1)} s | ${escapeCell(t.reason)} |`,
    ),
  ];
  lines.push(...throttlingLines(report));
  if (report.merge.length > 0) {
    lines.push("", "## Branches", "", "| task | branch | result |", "|---|---|---|");
    for (const m of report.merge) {
      const result = m.ok ? `committed ${m.commit?.slice(0, 12) ?? ""}` : `failed: ${escapeCell(m.error ?? "")}`;
      lines.push(`| ${m.task} | \`${m.branch}\` | ${result}${m.overlapsWith.length ? ` (touches the same files as ${m.overlapsWith.join(", ")})` : ""} |`);
    }
  }
  lines.push(...verifySection(report));
  lines.push(...integrationMarkdown(report.integration, report.review));
  lines.push("", "Patches: `<task>.patch`; opencode events: `<task>.events.ndjson`.", "");
  return lines.join("\n");
}

// Provider throttling is invisible in the statuses (the proxy rode it out): say it happened.
function throttlingLines(report: OrchestrationReport): string[] {
  const throttled = report.tasks.filter((t) => (t.throttled ?? 0) > 0);
  if (throttled.length === 0) return [];
  const perTask = throttled.map((t) => `${t.name} ${t.throttled}`).join(", ");
  return ["", `The provider throttled ${report.totals.throttled ?? 0} request(s) (HTTP 429/503); the proxy waited and retried them (${perTask}).`];
}

function unverifiedNote(report: OrchestrationReport): string {
  const unverified = report.tasks.filter((t) => t.status === "unverified").length;
  return unverified > 0 ? ` (${unverified} unverified: the agent finished, verify failed)` : "";
}

// Per task: how verify went, and for a failure the command and the end of its output.
function verifySection(report: OrchestrationReport): string[] {
  const verified = report.tasks.filter((t) => t.verify !== undefined);
  if (verified.length === 0) return [];
  const lines = ["", "## Verification", "", "| task | verify | attempts |", "|---|---|---|"];
  for (const t of verified) {
    const v = t.verify!;
    const how = v.passed ? "passed" : `\`${escapeCell(v.command)}\` ${v.timedOut ? "timed out" : `exit ${v.exitCode ?? "killed"}`}`;
    lines.push(`| ${t.name} | ${how} | ${v.attempts} |`);
  }
  for (const t of verified) {
    if (t.verify?.passed !== false) continue;
    // a fence inside the output would end the block early
    lines.push("", `### ${t.name}: \`${t.verify.command}\``, "", "~~~~", t.verify.outputTail.trimEnd().replaceAll("~~~~", "~ ~ ~ ~"), "~~~~");
  }
  return lines;
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ").slice(0, 300);
}
