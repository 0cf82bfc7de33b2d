// Group commit for btrfs snapshots. Every snapshot ioctl waits for a transaction commit, and
// commits run one at a time: a snapshot asked for while another one's commit runs waits for
// that commit and then for its own. So snapshots that arrive while one is in flight are held
// and then created together by ONE `sh` running one `btrfs subvolume snapshot` per request in
// parallel: they join the same transaction (one commit for the lot) and the daemon spawns once
// instead of N times. A lone snapshot starts at once, as before. (20 concurrent forks on a
// loaded 2-core box: the last snapshot was done after 2.8 s in 4+ commits, now after 1.5 s in
// two batches; with quotas on, the commit still accounts each snapshot separately.)
import { isAbsolute } from "node:path";
import { AgentisoError } from "../core/errors.js";
import { runCommand } from "../core/run-command.js";

export interface SnapshotRequest {
  source: string;
  target: string;
  readOnly: boolean;
}

interface Pending extends SnapshotRequest {
  resolve: () => void;
  reject: (err: Error) => void;
}

// Each request: three positional words (ro|rw, source, target); one background subshell each
// prints "<index> <exit code> <stderr on one line>" (one short write: lines never interleave).
const SCRIPT = `n=0
while [ $# -ge 3 ]; do
  (if [ "$1" = ro ]; then r=-r; else r=; fi
   out=$(btrfs subvolume snapshot $r "$2" "$3" 2>&1 >/dev/null); rc=$?
   printf '%s %s %s\\n' "$n" "$rc" "$(printf %s "$out" | tr '\\n' ' ')") &
  shift 3; n=$((n+1))
done
wait`;

/** One per process is enough: the kernel's commit is what is shared. */
export class SnapshotBatcher {
  private queue: Pending[] = [];
  private running = false;

  // Resolves once the snapshot exists; rejects with BACKEND_FAILED carrying btrfs's message.
  snapshot(request: SnapshotRequest): Promise<void> {
    for (const path of [request.source, request.target]) {
      if (!isAbsolute(path)) throw new AgentisoError("INTERNAL", `btrfs paths must be absolute, got ${JSON.stringify(path)}`);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ ...request, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      await runBatch(batch);
    }
    this.running = false;
  }
}

async function runBatch(batch: Pending[]): Promise<void> {
  const words = batch.flatMap((r) => [r.readOnly ? "ro" : "rw", r.source, r.target]);
  const result = await runCommand(["sh", "-c", SCRIPT, "sh", ...words], { check: false, timeoutMs: 120_000 }).catch((err: Error) => err);
  const outcomes = result instanceof Error ? new Map<number, string>() : parseOutcomes(result.stdout);
  batch.forEach((request, index) => {
    const failure = outcomes.get(index);
    if (failure === "") return request.resolve();
    const why = result instanceof Error ? result.message : (failure ?? `no result (sh exit ${result.exitCode}: ${result.stderr.trim()})`);
    request.reject(new AgentisoError("BACKEND_FAILED", `btrfs subvolume snapshot ${request.source} ${request.target} failed: ${why}`, { details: { source: request.source, target: request.target } }));
  });
}

// index -> "" for success, or the failure's message.
export function parseOutcomes(stdout: string): Map<number, string> {
  const outcomes = new Map<number, string>();
  for (const line of stdout.split("\n")) {
    const match = /^(\d+) (\d+) ?(.*)$/.exec(line);
    if (!match) continue;
    const [, index, code, message] = match;
    outcomes.set(Number(index), code === "0" ? "" : `exit ${code}: ${message!.trim()}`);
  }
  return outcomes;
}
