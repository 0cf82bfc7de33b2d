// Which orchestrations ran, across daemon restarts: a small index in the state dir (the last
// MAX_RECORDS runs: id, results directory, start) written when a run starts and when it ends.
// The board lists earlier runs from it, reading each one's report.json (bounded) from its
// results directory; a run's files are found only through it (run-files.ts).
import { readFile, rename, writeFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { isRunId } from "./run-files.js";

export const MAX_RECORDS = 20;
const MAX_INDEX_BYTES = 256 * 1024;

export interface RunRecord {
  id: string;
  /** The results directory (absolute). */
  dir: string;
  startedMs: number;
}

export class RunHistory {
  private records: RunRecord[] = [];
  private writing = Promise.resolve();

  /** path: the index file; undefined keeps it in memory only. */
  constructor(private readonly path: string | undefined) {}

  // Reads the index (newest first); a missing, oversized or broken file counts as empty.
  async load(): Promise<RunRecord[]> {
    if (!this.path) return this.records;
    const text = await readFile(this.path, "utf8").catch(() => "[]");
    let parsed: unknown = [];
    try {
      parsed = text.length > MAX_INDEX_BYTES ? [] : JSON.parse(text);
    } catch {
      parsed = [];
    }
    const loaded = (Array.isArray(parsed) ? parsed : []).filter(isRecord).slice(0, MAX_RECORDS);
    const known = new Set(this.records.map((r) => r.id));
    this.records = [...this.records, ...loaded.filter((r) => !known.has(r.id))].slice(0, MAX_RECORDS);
    return this.records;
  }

  find(id: string): RunRecord | undefined {
    return this.records.find((r) => r.id === id);
  }

  // Resolves once every write asked for so far is done (or failed): the daemon's close waits for it.
  settled(): Promise<void> {
    return this.writing;
  }

  // Adds or updates a run (newest first) and writes the index.
  record(run: RunRecord): Promise<void> {
    this.records = [run, ...this.records.filter((r) => r.id !== run.id)].slice(0, MAX_RECORDS);
    const path = this.path;
    if (!path) return Promise.resolve();
    const text = JSON.stringify(this.records);
    const written = this.writing.then(async () => {
      await writeFile(`${path}.tmp`, text, { mode: 0o600 });
      await rename(`${path}.tmp`, path);
    });
    this.writing = written.catch(() => undefined); // one failed write does not stop the next
    return written;
  }
}

function isRecord(value: unknown): value is RunRecord {
  const r = value as Partial<RunRecord> | null;
  return typeof r === "object" && r !== null && typeof r.id === "string" && isRunId(r.id) && typeof r.dir === "string" && isAbsolute(r.dir) && typeof r.startedMs === "number";
}
