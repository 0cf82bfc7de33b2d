// [review]: a reviewer agent reads the integrated diff and answers with a review (summary,
// risks, follow-ups) whose last line is a verdict. The answer becomes review.md; with
// gate = true only `VERDICT: approve` lets the integrated branch land.
import type { ReviewResult } from "./integration-result.js";
import type { Plan } from "./plan.js";

/** The first words of every review prompt (a scripted stub model matches on them, docs/llm.md). */
export const REVIEW_MARKER = "agentiso review";
/** The diff is cut past this many characters (the reviewer is told so). */
export const REVIEW_DIFF_MAX_CHARS = 200_000;

const VERDICT_LINE = /^\**VERDICT:\**\s*(approve|reject)\b/i;

// The reviewer's prompt: the plan's review prompt, the tasks, the diff and the shape of the answer.
export function reviewPrompt(review: NonNullable<Plan["review"]>, tasks: ReadonlyArray<{ name: string; prompt: string }>, diff: string): string {
  const cut = diff.length > REVIEW_DIFF_MAX_CHARS;
  return [
    `${REVIEW_MARKER}: ${review.prompt}`,
    "",
    "The branch integrates the work of these tasks:",
    ...tasks.map((t) => `- ${t.name}: ${t.prompt.split("\n")[0]!.slice(0, 300)}`),
    "",
    `The integrated diff${cut ? ` (its first ${REVIEW_DIFF_MAX_CHARS} characters)` : ""}; the repository in the working directory holds the integrated branch:`,
    "```diff",
    cut ? diff.slice(0, REVIEW_DIFF_MAX_CHARS) : diff,
    "```",
    "",
    "Do not change any file. Answer in Markdown with the sections ## Summary, ## Risks and ## Follow-ups,",
    "and make the last line of your answer exactly `VERDICT: approve` or `VERDICT: reject`.",
  ].join("\n");
}

// The verdict of the answer's last non-empty line; "none" when it is not a verdict line.
export function parseVerdict(answer: string): ReviewResult["verdict"] {
  const last = answer.trimEnd().split("\n").pop()?.trim() ?? "";
  const match = VERDICT_LINE.exec(last);
  return match ? (match[1]!.toLowerCase() as "approve" | "reject") : "none";
}

// Whether the review lets the branch land: always without a gate, only on approve with one.
export function reviewAllowsLanding(review: Pick<ReviewResult, "gate" | "verdict"> | undefined): boolean {
  return review === undefined || !review.gate || review.verdict === "approve";
}
