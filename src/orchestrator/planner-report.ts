// The planner's part of the report: its section, and its tokens and cost added to the totals.
import { addUsage, type TokenUsage } from "../llm/token-usage.js";
import type { PlannerInfo } from "./planner.js";

// The report with the planner's section (unchanged when there was no planner).
export function withPlanner<R extends { totals: { tokens: TokenUsage; costUsd: number } }>(report: R, planner: PlannerInfo | undefined): R & { planner?: PlannerInfo } {
  if (planner === undefined) return report;
  const totals = { ...report.totals, tokens: addUsage(report.totals.tokens, planner.tokens), costUsd: report.totals.costUsd + planner.costUsd };
  return { ...report, totals, planner };
}
