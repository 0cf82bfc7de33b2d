// What the resolver agent is told: which patch could not be integrated and why (git's conflict
// output, or the failing verify command and its output), what that patch's task asked, what
// the tasks already on the branch asked, and what done means. It starts with a fixed marker
// so a scripted stub model can tell it from the tasks' prompts (docs/llm.md).
import type { IntegrationCandidate } from "./integrate-patches.js";
import type { IntegrationProblem } from "./integration-result.js";

/** The first words of every resolver prompt. */
export const RESOLVER_MARKER = "agentiso integration resolver";

// Builds the resolver's prompt; pure.
export function resolverPrompt(candidate: IntegrationCandidate, problem: IntegrationProblem, integrated: readonly IntegrationCandidate[], verify: readonly string[]): string {
  const why =
    problem.kind === "conflict"
      ? `Its patch conflicted with the branch. git left conflict markers (<<<<<<< ======= >>>>>>>) in the files it names:\n${problem.detail}`
      : `Its patch applied, but the verify commands failed afterwards:\n${problem.detail}`;
  return [
    `${RESOLVER_MARKER}: this repository is a branch that integrates the work of several coding agents, one patch at a time.`,
    `The patch of task "${candidate.name}" is applied to the work tree now. ${why}`,
    "",
    `Task "${candidate.name}" asked:\n${quote(candidate.prompt)}`,
    "",
    integrated.length === 0 ? "No other task is on the branch yet." : `Already on the branch:\n${integrated.map((t) => `- task "${t.name}" asked:\n${quote(t.prompt)}`).join("\n")}`,
    "",
    "Make the work tree hold what every one of these tasks asked for: remove all conflict markers, keep both sides' intent.",
    verify.length === 0 ? "" : `When you are done these commands must exit 0 in the repository: ${verify.map((c) => `\`${c}\``).join(", ")}.`,
    "Do not commit and do not switch branches. End with a short summary of what you changed and why.",
  ]
    .filter((line, i, all) => line !== "" || all[i - 1] !== "")
    .join("\n");
}

function quote(text: string): string {
  return text
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n");
}
