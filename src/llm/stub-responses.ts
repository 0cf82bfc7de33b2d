// Writes one scripted answer in OpenAI chat-completions form: an SSE stream of chunks
// (`data: {...}\n\n` ... `data: [DONE]`) or one JSON body. Usage is in the final chunk
// (unless the script says it comes only when asked, as OpenAI does), and in a separate
// usage-only chunk when the client asked for include_usage.
import type { ServerResponse } from "node:http";
import type { StubStep } from "./stub-script.js";

export interface ReplyUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ReplyContext {
  id: string;
  model: string;
  usage: ReplyUsage;
  includeUsage: boolean;
  /** Usage in the chunk with the finish reason too, whether asked or not. */
  usageInFinalChunk: boolean;
}

// Sends an OpenAI-style error body with the scripted status.
export function writeError(res: ServerResponse, status: number, message: string, retryAfterSeconds?: number): void {
  const type = status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
  const body = JSON.stringify({ error: { message, type, code: null } });
  const retryAfter = retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) };
  res.writeHead(status, { "content-type": "application/json", ...retryAfter }).end(body);
}

// Builds the chunks of a streamed answer, in order, without the terminating [DONE].
export function streamChunks(step: StubStep, ctx: ReplyContext): object[] {
  const base = { id: ctx.id, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: ctx.model };
  const chunk = (delta: object, finish: string | null, extra: object = {}) => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish }], ...extra });
  const chunks: object[] = [chunk({ role: "assistant", content: "" }, null)];
  for (const piece of splitText(step.text ?? "")) chunks.push(chunk({ content: piece }, null));
  for (const [index, call] of (step.toolCalls ?? []).entries()) {
    const fn = { name: call.name, arguments: JSON.stringify(call.arguments) };
    chunks.push(chunk({ tool_calls: [{ index, id: `call_${ctx.id}_${index}`, type: "function", function: fn }] }, null));
  }
  chunks.push(chunk({}, finishReason(step), ctx.usageInFinalChunk ? { usage: ctx.usage } : {}));
  if (ctx.includeUsage) chunks.push({ ...base, choices: [], usage: ctx.usage });
  return chunks;
}

// The non-streaming form of the same answer.
export function completionBody(step: StubStep, ctx: ReplyContext): object {
  const toolCalls = (step.toolCalls ?? []).map((call, index) => ({
    id: `call_${ctx.id}_${index}`,
    type: "function",
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));
  const message = { role: "assistant", content: step.text ?? (toolCalls.length ? null : ""), ...(toolCalls.length ? { tool_calls: toolCalls } : {}) };
  return {
    id: ctx.id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: ctx.model,
    choices: [{ index: 0, message, finish_reason: finishReason(step) }],
    usage: ctx.usage,
  };
}

export function sseLine(payload: object | "[DONE]"): string {
  return `data: ${payload === "[DONE]" ? payload : JSON.stringify(payload)}\n\n`;
}

function finishReason(step: StubStep): string {
  return step.toolCalls?.length ? "tool_calls" : "stop";
}

// A few pieces, so a client sees a real stream and a cut can land mid-text.
function splitText(text: string): string[] {
  if (!text) return [];
  const pieces = text.match(/\S+\s*|\s+/g) ?? [text];
  return pieces.length > 1 ? pieces : [text];
}
