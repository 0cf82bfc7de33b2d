// What the stub model answers, as data: a list of rules, each a conversation matcher and a
// list of steps. The step is picked by how many assistant turns the conversation already
// has, so a 3-step script (write, edit, answer) plays out over one agent run.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";

const UsageSchema = z
  .object({
    promptTokens: z.number().int().nonnegative().describe("prompt_tokens reported for each response"),
    completionTokens: z.number().int().nonnegative().describe("completion_tokens reported for each response"),
  })
  .strict();

const ToolCallSchema = z
  .object({
    name: z.string().min(1).describe("tool name as the client offered it, e.g. write, edit, bash"),
    arguments: z.record(z.string(), z.unknown()).describe("tool arguments; '{{workdir}}' in strings becomes the client's working directory"),
  })
  .strict();

export const StubStepSchema = z
  .object({
    text: z.string().optional().describe("assistant text"),
    toolCalls: z.array(ToolCallSchema).optional().describe("tool calls (finish_reason tool_calls)"),
    fail: z
      .object({
        status: z.number().int().min(400).max(599),
        message: z.string().default("stub: scripted failure"),
        retryAfterSeconds: z.number().int().nonnegative().optional().describe("send a Retry-After header with this many seconds"),
      })
      .strict()
      .optional()
      .describe("answer with this HTTP error instead"),
    delayMs: z.number().int().nonnegative().optional().describe("wait this long before answering"),
    cutAfterChunks: z.number().int().nonnegative().optional().describe("streaming only: drop the connection after this many chunks"),
    stallAfterChunks: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe("streaming only: send this many chunks, then hold the connection open and send nothing more (a provider that stopped answering)"),
    usage: UsageSchema.optional().describe("overrides the script's usage for this step"),
  })
  .strict();

export const StubRuleSchema = z
  .object({
    name: z.string().optional(),
    match: z
      .object({
        firstUserMessageContains: z.string().optional(),
        anyMessageContains: z.string().optional(),
        lastUserMessageContains: z.string().optional().describe("the latest user message, e.g. the prompt that continues a session"),
        withTools: z.boolean().default(true).describe("match only requests that offer tools (true: agent turns, not title generation)"),
      })
      .strict()
      .default({ withTools: true }),
    steps: z.array(StubStepSchema).min(1).describe("step i answers a conversation with i assistant turns; the last repeats"),
    countTurnsFrom: z
      .enum(["conversation-start", "last-user-message"])
      .default("conversation-start")
      .describe("last-user-message: count only assistant turns after the latest user message, so a continued session starts again at step 0"),
  })
  .strict();

/** A rate-limit storm: the next `requests` chat completions are refused before any rule is consulted. */
export const StubStormSchema = z
  .object({
    requests: z.number().int().nonnegative().describe("how many chat-completion requests get the error"),
    status: z.union([z.literal(429), z.literal(503)]).default(429),
    retryAfterSeconds: z.number().int().nonnegative().optional().describe("Retry-After header of each refusal; absent: none sent"),
  })
  .strict();

export const StubScriptSchema = z
  .object({
    usage: UsageSchema.default({ promptTokens: 100, completionTokens: 20 }),
    rules: z.array(StubRuleSchema).default([]),
    default: StubStepSchema.default({ text: "Hello from the agentiso stub model." }).describe("answer when no rule matches"),
    models: z.array(z.string()).default(["stub-model"]).describe("ids listed by GET /v1/models"),
    streamUsage: z
      .enum(["always", "when-asked"])
      .default("always")
      .describe("streams: always = usage in the final chunk too (like llama.cpp, vLLM); when-asked = only in a usage chunk when stream_options.include_usage is set (like OpenAI)"),
    storm: StubStormSchema.optional().describe("refuse the first N chat completions with 429/503 (and Retry-After)"),
  })
  .strict();

export type StubStep = z.infer<typeof StubStepSchema>;
export type StubStorm = z.input<typeof StubStormSchema>;
export type StubRule = z.infer<typeof StubRuleSchema>;
export type StubScript = z.infer<typeof StubScriptSchema>;
export type StubScriptInput = z.input<typeof StubScriptSchema>;

// Validates a script object (defaults filled in); INVALID_INPUT names the bad field.
export function parseStubScript(input: unknown): StubScript {
  const result = StubScriptSchema.safeParse(input);
  if (!result.success) {
    throw new AgentisoError("INVALID_INPUT", `invalid stub script: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

// Reads a script from a JSON file, for `agentiso llm-stub --script FILE`.
export async function loadStubScript(path: string): Promise<StubScript> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new AgentisoError("NOT_FOUND", `cannot read stub script ${path}`, { cause: err });
  }
  try {
    return parseStubScript(JSON.parse(text));
  } catch (err) {
    if (err instanceof AgentisoError) throw err;
    throw new AgentisoError("INVALID_INPUT", `stub script ${path} is not valid JSON`, { cause: err });
  }
}
