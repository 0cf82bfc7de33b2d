// opencode (a Bun binary) exits without flushing what it still holds for stdout: when its
// reader is slow, the last events (the final answer, the last step_finish) are lost and the
// run looks unfinished. Measured: a 12 MB reply read 60 s late arrived as 256 KB (the socket
// buffer) and exit code 0. In a worker the reader is the guest agent, held back by the
// daemon's flow window, so a loaded host hit it (CI, workspace-bytes.test.ts).
//
// So opencode writes to a file, which never pushes back, and `tail --pid` streams that file
// until opencode is gone, then what is left. The exit code (or the signal that killed it) is
// opencode's. All of it is one process group: the agent's kill on a cap, a stall or a timeout
// ends opencode and tail together. Where tail has no --pid (not GNU coreutils), opencode
// runs as before.
import { posix } from "node:path";

const SCRIPT = [
  'out="$1.$$"; shift',
  'tail --pid=$$ -c 0 /dev/null >/dev/null 2>&1 || exec "$@"',
  ': > "$out"', // before tail opens it: tail -f gives up on a file that is not there yet
  '"$@" > "$out" &',
  "pid=$!",
  'tail -c +1 -s 0.1 --pid="$pid" -f "$out"',
  'wait "$pid"; rc=$?',
  'rm -f "$out"',
  // a shell reports a killed child as 128+N: die of the same signal, so the run reads "killed"
  'if [ "$rc" -gt 128 ]; then kill -s "$(kill -l "$rc")" $$; fi',
  'exit "$rc"',
].join("\n");

// The argv that runs `argv` with its stdout through a file under dir (the run's own dir).
export function outputThroughFile(argv: readonly string[], dir: string): string[] {
  return ["sh", "-c", SCRIPT, "sh", posix.join(dir, "stdout.ndjson"), ...argv];
}
