// opencode's transcript of one run as a person reads it — the text it wrote, each tool call
// (status, title, error, its input clipped) and each error — from the raw event stream the
// results directory keeps (<task>.events.ndjson). Bounded whatever the stream's size: the
// caller hands the file's first and last bytes, each entry's text is clipped, and past
// MAX_ENTRIES the middle entries are dropped and counted.
import { errorOf, toolCallOf, type OpencodeEvent } from "./parse-events.js";

export const MAX_ENTRIES = 600;
export const MAX_ENTRY_CHARS = 4000;

export interface TranscriptEntry {
  kind: "text" | "tool" | "error" | "step" | "omitted";
  text: string;
  /** tool: its name and status (completed, error, ...). */
  tool?: string;
  status?: string;
  atMs?: number;
}

export interface Transcript {
  entries: TranscriptEntry[];
  /** Entries left out in the middle (over MAX_ENTRIES), and bytes of the file never read. */
  omittedEntries: number;
  skippedBytes: number;
}

// The transcript of an events file read as its head and tail (tail "" when it was read whole).
export function transcriptOf(file: { head: string; tail: string; skippedBytes: number }): Transcript {
  const whole = file.tail === "";
  // a cut leaves a partial line at the end of the head and the start of the tail: both go
  const head = entriesOf(whole ? file.head.split("\n") : file.head.split("\n").slice(0, -1));
  const tail = whole ? [] : entriesOf(file.tail.split("\n").slice(1));
  const entries = whole ? head : [...head, { kind: "omitted" as const, text: `${file.skippedBytes} bytes of events not read` }, ...tail];
  // past MAX_ENTRIES, the middle goes and one marker stands for it
  const omittedEntries = entries.length > MAX_ENTRIES ? entries.length - MAX_ENTRIES + 1 : 0;
  if (omittedEntries > 0) entries.splice(MAX_ENTRIES / 2, omittedEntries, { kind: "omitted", text: `${omittedEntries} entries left out` });
  return { entries, omittedEntries, skippedBytes: file.skippedBytes };
}

function entriesOf(lines: string[]): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  for (const line of lines) {
    const entry = entryOf(line);
    if (!entry) continue;
    const last = entries.at(-1);
    // opencode may stream text in pieces: one entry per run of text
    if (entry.kind === "text" && last?.kind === "text") {
      if (last.text.length < MAX_ENTRY_CHARS) last.text = clip(last.text + entry.text);
    } else entries.push(entry);
  }
  return entries;
}

function entryOf(line: string): TranscriptEntry | undefined {
  let event: OpencodeEvent;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== "object" || value === null || typeof (value as { type?: unknown }).type !== "string") return undefined;
    event = value as OpencodeEvent;
  } catch {
    return undefined;
  }
  const part = event.part ?? {};
  const atMs = typeof event.timestamp === "number" ? { atMs: event.timestamp } : {};
  if (event.type === "text" && typeof part.text === "string") return { kind: "text", text: clip(part.text), ...atMs };
  if (event.type === "tool_use") {
    const call = toolCallOf(part);
    const input = call.input === undefined ? "" : JSON.stringify(call.input);
    return { kind: "tool", tool: clip(call.tool, 100), status: clip(call.status, 40), text: clip([call.title, call.error, input].filter(Boolean).join("\n")), ...atMs };
  }
  if (event.type === "error") return { kind: "error", text: clip(errorOf(event.error).message), ...atMs };
  if (event.type === "step_finish" && typeof part.reason === "string") return { kind: "step", text: clip(`step finished: ${part.reason}`, 200), ...atMs };
  return undefined;
}

function clip(text: string, max = MAX_ENTRY_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
