// The "Integration" and "Review" sections of report.md: the order the patches were tried in,
// what conflicted or failed verify, what the resolver did, verify's final state, where the
// branch landed, and a link to review.md.
import type { IntegrationResult, ReviewResult } from "./integration-result.js";

// Markdown lines for report.md (none without an integration).
export function integrationMarkdown(integration: IntegrationResult | undefined, review: ReviewResult | undefined): string[] {
  if (integration === undefined) return [];
  const landed = integration.landed ? `landed at \`${integration.commit?.slice(0, 12) ?? ""}\` in ${integration.repository}` : `**did not land**: ${cell(integration.error ?? "")}`;
  const verify = integration.verify.commands === 0 ? "no verify commands" : integration.verify.passed ? "verify passes" : `**verify fails**: ${cell(integration.verify.detail ?? "")}`;
  const lines = [
    "",
    "## Integration",
    "",
    `Branch \`${integration.branch}\` ${landed}; ${verify}.`,
    `Order: ${integration.order.join(" → ") || "(nothing to integrate)"}.`,
    "",
    "| task | outcome | problem | resolver |",
    "|---|---|---|---|",
    ...integration.steps.map((s) => `| ${s.task} | ${s.outcome} | ${s.problem ? `${s.problem.kind}: ${cell(s.problem.detail)}` : ""} | ${resolverCell(s.resolver)} |`),
  ];
  if (review !== undefined) {
    lines.push("", "## Review", "", `[${review.file}](${review.file}): verdict **${review.verdict}**${review.gate ? " (gate: only approve lands the branch)" : ""}${review.reason ? `; ${cell(review.reason)}` : ""}.`);
  }
  return lines;
}

function resolverCell(resolver: IntegrationResult["steps"][number]["resolver"]): string {
  if (resolver === undefined) return "";
  const kept = resolver.unresolved === undefined ? "kept" : `not kept: ${resolver.unresolved}`;
  return cell(`${resolver.status}, ${kept}; files ${resolver.filesChanged.join(", ") || "none"}; ${resolver.summary || resolver.reason}`);
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ").slice(0, 300);
}
