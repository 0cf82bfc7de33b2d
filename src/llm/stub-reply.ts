// Picks the scripted answer for one chat-completions request: the first rule whose matcher
// fits the conversation, step = number of assistant turns so far, or since the latest user
// message (the last step repeats).
import type { StubScript, StubStep } from "./stub-script.js";

export interface ChatRequestView {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  /** Names of the tools the client offered. */
  tools: string[];
  firstUserMessage: string;
  allText: string;
  assistantTurns: number;
  lastUserMessage: string;
  /** Assistant turns after the latest user message (a continued session's new run). */
  assistantTurnsSinceLastUser: number;
  /** From opencode's system prompt ("Working directory: ..."), for {{workdir}}. */
  workdir: string | undefined;
}

export interface ChosenReply {
  rule: string | undefined;
  stepIndex: number;
  step: StubStep;
}

// Reduces a request body to what scripts match on; tolerant of content given as parts.
export function viewChatRequest(body: Record<string, unknown>): ChatRequestView {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<Record<string, unknown>>) : [];
  const texts = messages.map((m) => contentText(m.content));
  const firstUser = messages.findIndex((m) => m.role === "user");
  const lastUser = messages.findLastIndex((m) => m.role === "user");
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
  const system = messages.filter((m) => m.role === "system").map((m) => contentText(m.content)).join("\n");
  return {
    model: typeof body.model === "string" ? body.model : "",
    stream: body.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    tools: Array.isArray(body.tools) ? body.tools.map(toolName).filter((n): n is string => !!n) : [],
    firstUserMessage: firstUser >= 0 ? texts[firstUser]! : "",
    allText: texts.join("\n"),
    assistantTurns: messages.filter((m) => m.role === "assistant").length,
    lastUserMessage: lastUser >= 0 ? texts[lastUser]! : "",
    assistantTurnsSinceLastUser: messages.slice(lastUser + 1).filter((m) => m.role === "assistant").length,
    workdir: /Working directory: (.+)/.exec(system)?.[1]?.trim(),
  };
}

// First matching rule's step for this conversation, else the script's default answer.
export function chooseReply(script: StubScript, view: ChatRequestView): ChosenReply {
  for (const [index, rule] of script.rules.entries()) {
    const m = rule.match;
    if (m.withTools && view.tools.length === 0) continue;
    if (m.firstUserMessageContains !== undefined && !view.firstUserMessage.includes(m.firstUserMessageContains)) continue;
    if (m.anyMessageContains !== undefined && !view.allText.includes(m.anyMessageContains)) continue;
    if (m.lastUserMessageContains !== undefined && !view.lastUserMessage.includes(m.lastUserMessageContains)) continue;
    const turns = rule.countTurnsFrom === "last-user-message" ? view.assistantTurnsSinceLastUser : view.assistantTurns;
    const stepIndex = Math.min(turns, rule.steps.length - 1);
    return { rule: rule.name ?? `rule ${index}`, stepIndex, step: withWorkdir(rule.steps[stepIndex]!, view.workdir) };
  }
  return { rule: undefined, stepIndex: 0, step: script.default };
}

function withWorkdir(step: StubStep, workdir: string | undefined): StubStep {
  if (!step.toolCalls || workdir === undefined) return step;
  const replace = (value: unknown): unknown =>
    typeof value === "string"
      ? value.replaceAll("{{workdir}}", workdir)
      : Array.isArray(value)
        ? value.map(replace)
        : typeof value === "object" && value !== null
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replace(v)]))
          : value;
  return { ...step, toolCalls: step.toolCalls.map((call) => ({ ...call, arguments: replace(call.arguments) as Record<string, unknown> })) };
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === "object" && part && typeof (part as { text?: unknown }).text === "string" ? (part as { text: string }).text : "")).join("");
  }
  return "";
}

function toolName(tool: unknown): string | undefined {
  const fn = (tool as { function?: { name?: unknown } } | undefined)?.function;
  return typeof fn?.name === "string" ? fn.name : undefined;
}
