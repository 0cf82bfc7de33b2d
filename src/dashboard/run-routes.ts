// The dashboard's routes into orchestrations (all behind the session cookie): a task's detail
// (from memory while the board keeps the run, else from its report.json), opencode's transcript
// of a task (from <task>.events.ndjson), and the run's files themselves — report.json,
// report.md, a task's patch — streamed. The run id in a URL is only looked up in the run index
// (RunHistory); file names go through run-files.ts. Everything read is bounded.
import type { ServerResponse } from "node:http";
import { AgentisoError } from "../core/errors.js";
import type { OrchestrationBoard } from "./orchestration-board.js";
import type { TaskDetail, TranscriptShape } from "./page-shapes.js";
import { detailFromReport } from "./report-summary.js";
import { isRunId, isTaskName, openRunFile, readRunFile, readRunFileEnds, resolveRunFile, runFileKind } from "./run-files.js";
import type { RunHistory } from "./run-history.js";

export const MAX_REPORT_BYTES = 64 * 1024 * 1024;
/** Of an events file, the first and the last this many bytes are read for a transcript. */
export const TRANSCRIPT_END_BYTES = 2 * 1024 * 1024;

export interface RunRouteDeps {
  board: OrchestrationBoard;
  history: RunHistory;
  transcriptOf: (file: { head: string; tail: string; skippedBytes: number }) => TranscriptShape;
}

const CONTENT_TYPES = { report: "application/json", markdown: "text/markdown; charset=utf-8", patch: "text/plain; charset=utf-8", events: "application/x-ndjson" } as const;

// Handles GET /api/runs/<run>/...; false when the path is not one of these routes.
export async function runRoute(path: string, res: ServerResponse, deps: RunRouteDeps, headers: Record<string, string>): Promise<boolean> {
  const match = /^\/api\/runs\/([^/]+)\/(tasks\/([^/]+)(\/transcript)?|files\/([^/]+))$/.exec(path);
  if (!match) return false;
  const run = decode(match[1]!);
  const task = match[3] === undefined ? undefined : decode(match[3]);
  if (!isRunId(run) || (task !== undefined && !isTaskName(task))) throw new AgentisoError("INVALID_INPUT", "not a run id or task name");
  if (task !== undefined && match[4] === undefined) return sendJson(res, { ok: true, result: await detail(deps, run, task) }, headers);
  const dir = deps.history.find(run)?.dir;
  if (!dir) throw new AgentisoError("NOT_FOUND", `no results directory known for run ${run}`);
  if (task !== undefined) {
    const events = await readRunFileEnds(resolveRunFile(dir, `${task}.events.ndjson`), TRANSCRIPT_END_BYTES);
    return sendJson(res, { ok: true, result: deps.transcriptOf(events) }, headers);
  }
  const file = decode(match[5]!);
  const { file: handle, size } = await openRunFile(resolveRunFile(dir, file), MAX_REPORT_BYTES);
  res.writeHead(200, { ...headers, "content-type": CONTENT_TYPES[runFileKind(file)!], "content-length": size, "content-disposition": "inline" });
  const stream = handle.createReadStream({ start: 0, end: Math.max(0, size - 1) });
  await new Promise<void>((resolve) => {
    stream.on("error", () => (res.destroy(), resolve()));
    stream.on("end", resolve);
    stream.pipe(res);
  });
  return true;
}

async function detail(deps: RunRouteDeps, run: string, task: string): Promise<TaskDetail> {
  const live = deps.board.detail(run, task);
  if (live) return live;
  const dir = deps.history.find(run)?.dir;
  if (!dir || deps.board.isRunning(run)) throw new AgentisoError("NOT_FOUND", "no such task (yet)");
  const report = JSON.parse(await readRunFile(resolveRunFile(dir, "report.json"), MAX_REPORT_BYTES)) as Record<string, unknown>;
  const found = detailFromReport(report, task);
  if (!found) throw new AgentisoError("NOT_FOUND", `run ${run} has no task ${task}`);
  return found;
}

// %-decoding that refuses what is not valid instead of throwing a URIError.
function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new AgentisoError("INVALID_INPUT", "bad %-encoding in the path");
  }
}

function sendJson(res: ServerResponse, body: unknown, headers: Record<string, string>): true {
  const text = JSON.stringify(body);
  res.writeHead(200, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
  return true;
}
