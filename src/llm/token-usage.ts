// Token counts in one shape for every provider. OpenAI reports cached tokens inside
// prompt_tokens, Anthropic reports them beside input_tokens; here `input` never includes
// cache reads or writes, so summing the five fields never counts a token twice.

export interface TokenUsage {
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
}

export function zeroUsage(): TokenUsage {
  return { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 };
}

// Sums two usages field by field (used to accumulate a task's spend over its requests).
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    reasoning: a.reasoning + b.reasoning,
    cacheRead: a.cacheRead + b.cacheRead,
    cacheWrite: a.cacheWrite + b.cacheWrite,
  };
}

export function totalTokens(usage: TokenUsage): number {
  return usage.input + usage.output + usage.cacheRead + usage.cacheWrite;
}

/** Fields seen so far in one response; later reports of a field replace earlier ones. */
export type PartialUsage = Partial<TokenUsage>;

// Reads the usage object of one OpenAI or Anthropic JSON body or SSE event, if it has one:
// top level (chat completions, Anthropic message_delta), in `message` (Anthropic
// message_start) or in `response` (OpenAI Responses events such as response.completed).
export function usageFromPayload(payload: unknown): PartialUsage | undefined {
  if (!isRecord(payload)) return undefined;
  const usage = [payload, payload.message, payload.response].map((holder) => (isRecord(holder) && isRecord(holder.usage) ? holder.usage : undefined)).find(Boolean);
  if (!usage) return undefined;
  if ("prompt_tokens" in usage || "completion_tokens" in usage) return fromOpenAi(usage);
  return "input_tokens_details" in usage || "output_tokens_details" in usage ? fromOpenAiResponses(usage) : fromAnthropic(usage);
}

function fromOpenAi(usage: Record<string, unknown>): PartialUsage {
  const prompt = num(usage.prompt_tokens);
  const cached = num(isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details.cached_tokens : undefined);
  const reasoning = num(isRecord(usage.completion_tokens_details) ? usage.completion_tokens_details.reasoning_tokens : undefined);
  return compact({
    input: prompt === undefined ? undefined : prompt - (cached ?? 0),
    output: num(usage.completion_tokens),
    reasoning,
    cacheRead: cached,
  });
}

// The Responses API counts cached tokens inside input_tokens, like chat completions do.
function fromOpenAiResponses(usage: Record<string, unknown>): PartialUsage {
  const input = num(usage.input_tokens);
  const cached = num(isRecord(usage.input_tokens_details) ? usage.input_tokens_details.cached_tokens : undefined);
  return compact({
    input: input === undefined ? undefined : input - (cached ?? 0),
    output: num(usage.output_tokens),
    reasoning: num(isRecord(usage.output_tokens_details) ? usage.output_tokens_details.reasoning_tokens : undefined),
    cacheRead: cached,
  });
}

function fromAnthropic(usage: Record<string, unknown>): PartialUsage {
  return compact({
    input: num(usage.input_tokens),
    output: num(usage.output_tokens),
    cacheRead: num(usage.cache_read_input_tokens),
    cacheWrite: num(usage.cache_creation_input_tokens),
  });
}

// Completes a response's partial usage with zeros.
export function finishUsage(partial: PartialUsage): TokenUsage {
  return { ...zeroUsage(), ...partial };
}

function compact(usage: PartialUsage): PartialUsage {
  return Object.fromEntries(Object.entries(usage).filter(([, v]) => v !== undefined));
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
