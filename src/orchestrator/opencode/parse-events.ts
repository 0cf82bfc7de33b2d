// Reads `opencode run --format json` output: one JSON event per line (step_start, text,
// tool_use, step_finish, error, ...). Fed in arbitrary chunks; partial lines wait for their
// newline; events of unknown types are kept as they are; lines that are not JSON are counted.
import { AgentisoError } from "../../core/errors.js";
import { LineReader, MAX_STRING_LINE_BYTES } from "../../core/line-reader.js";

export interface OpencodeEvent {
  type: string;
  timestamp?: number;
  sessionID?: string;
  part?: Record<string, unknown>;
  error?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface OpencodeToolCall {
  tool: string;
  callId: string;
  /** completed | error (opencode's state.status; other values kept as given). */
  status: string;
  title: string | undefined;
  error: string | undefined;
  input: unknown;
}

export interface OpencodeTokens {
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface OpencodeError {
  name: string;
  message: string;
  statusCode: number | undefined;
  retryable: boolean | undefined;
}

export interface ParsedOpencodeRun {
  events: OpencodeEvent[];
  sessionId: string | undefined;
  steps: number;
  /** reason of the last step_finish: stop, tool-calls, length, ... */
  lastStepReason: string | undefined;
  /** Text of the last step (the model's final answer when that step stopped). */
  finalText: string;
  toolCalls: OpencodeToolCall[];
  /** Summed over step_finish events. */
  tokens: OpencodeTokens;
  costUsd: number;
  errors: OpencodeError[];
  firstTimestamp: number | undefined;
  lastTimestamp: number | undefined;
  /** Lines that were not JSON objects (opencode printing something else on stdout). */
  unparsedLines: number;
}

export class OpencodeEventParser {
  private readonly reader = new LineReader({ maxLineBytes: MAX_STRING_LINE_BYTES, stripCarriageReturn: true, tooLong: { action: "throw", error: lineTooLong } });
  private unparsed = 0;
  readonly events: OpencodeEvent[] = [];

  // Adds bytes; returns the events completed by them.
  push(chunk: Buffer | string): OpencodeEvent[] {
    return this.reader.push(chunk).flatMap((line) => this.line(line));
  }

  // Flushes a last line without newline and returns the summary of everything seen.
  end(): ParsedOpencodeRun {
    this.line(this.reader.end());
    return summarizeEvents(this.events, this.unparsed);
  }

  private line(raw: string): OpencodeEvent[] {
    const text = raw.trim();
    if (!text) return [];
    // Not an object: counted without JSON.parse, whose exception per line (a stack trace each)
    // made 8 MiB of `yes` cost the daemon 23 s of CPU and 330 MiB.
    if (text[0] !== "{") {
      this.unparsed += 1;
      return [];
    }
    try {
      const value = parseWithoutStack(text);
      if (typeof value === "object" && value !== null && !Array.isArray(value) && typeof (value as { type?: unknown }).type === "string") {
        this.events.push(value as OpencodeEvent);
        return [value as OpencodeEvent];
      }
    } catch {
      // not JSON: counted below
    }
    this.unparsed += 1;
    return [];
  }
}

// JSON.parse whose SyntaxError carries no stack trace: lines a workspace floods with ("{x}",
// 8 MiB of them took 12 s of the daemon's CPU with traces) fail cheaply. Synchronous, so the
// global limit is back before any other code runs.
function parseWithoutStack(text: string): unknown {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return JSON.parse(text);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function lineTooLong(maxLineBytes: number): AgentisoError {
  return new AgentisoError("TOO_LARGE", `opencode printed a line over ${maxLineBytes} bytes`);
}

// Parses a complete NDJSON text (a captured stdout).
export function parseOpencodeOutput(stdout: string): ParsedOpencodeRun {
  const parser = new OpencodeEventParser();
  parser.push(stdout);
  return parser.end();
}

// Folds events into the run's facts; pure, so fixtures pin it down.
export function summarizeEvents(events: readonly OpencodeEvent[], unparsedLines = 0): ParsedOpencodeRun {
  const run: ParsedOpencodeRun = {
    events: [...events],
    sessionId: undefined,
    steps: 0,
    lastStepReason: undefined,
    finalText: "",
    toolCalls: [],
    tokens: { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 },
    costUsd: 0,
    errors: [],
    firstTimestamp: undefined,
    lastTimestamp: undefined,
    unparsedLines,
  };
  let stepText: string[] = [];
  for (const event of events) {
    run.sessionId ??= str(event.sessionID);
    if (typeof event.timestamp === "number") {
      run.firstTimestamp ??= event.timestamp;
      run.lastTimestamp = event.timestamp;
    }
    const part = event.part ?? {};
    if (event.type === "step_start") stepText = [];
    else if (event.type === "text" && typeof part.text === "string") stepText.push(part.text);
    else if (event.type === "tool_use") run.toolCalls.push(toolCallOf(part));
    else if (event.type === "step_finish") addStep(run, part);
    else if (event.type === "error") run.errors.push(errorOf(event.error));
    run.finalText = stepText.join("");
  }
  return run;
}

// One line about an event as it happens (a tool call, text, an error) for live views; undefined
// for bookkeeping events (step_start, step_finish).
export function describeEvent(event: OpencodeEvent): string | undefined {
  const part = event.part ?? {};
  if (event.type === "tool_use") {
    const call = toolCallOf(part);
    return `${call.tool} ${call.status}${call.title ? `: ${call.title}` : ""}`.slice(0, 160);
  }
  if (event.type === "text" && typeof part.text === "string") return `text: ${part.text.replace(/\s+/g, " ").trim()}`.slice(0, 160);
  if (event.type === "error") return `error: ${errorOf(event.error).message}`.slice(0, 160);
  return undefined;
}

function addStep(run: ParsedOpencodeRun, part: Record<string, unknown>): void {
  run.steps += 1;
  run.lastStepReason = str(part.reason);
  const tokens = (part.tokens ?? {}) as Record<string, unknown>;
  const cache = (tokens.cache ?? {}) as Record<string, unknown>;
  run.tokens.input += num(tokens.input);
  run.tokens.output += num(tokens.output);
  run.tokens.reasoning += num(tokens.reasoning);
  run.tokens.cacheRead += num(cache.read);
  run.tokens.cacheWrite += num(cache.write);
  run.costUsd += num(part.cost);
}

export function toolCallOf(part: Record<string, unknown>): OpencodeToolCall {
  const state = (part.state ?? {}) as Record<string, unknown>;
  return {
    tool: str(part.tool) ?? "unknown",
    callId: str(part.callID) ?? "",
    status: str(state.status) ?? "unknown",
    title: str(state.title),
    error: str(state.error),
    input: state.input,
  };
}

export function errorOf(error: Record<string, unknown> | undefined): OpencodeError {
  const data = (error?.data ?? {}) as Record<string, unknown>;
  return {
    name: str(error?.name) ?? "UnknownError",
    message: str(data.message) ?? str(error?.message) ?? JSON.stringify(error ?? {}).slice(0, 500),
    statusCode: typeof data.statusCode === "number" ? data.statusCode : undefined,
    retryable: typeof data.isRetryable === "boolean" ? data.isRetryable : undefined,
  };
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}
