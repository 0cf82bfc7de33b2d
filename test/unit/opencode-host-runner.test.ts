// The host runner ends a run's whole process group on timeout or abort, and cleans its run dir.
// A small shell script stands in for opencode here; the real binary runs in test/integration.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { runOpencodeOnHost } from "../../src/orchestrator/opencode/run-on-host.js";

const STEP_START = JSON.stringify({ type: "step_start", sessionID: "ses_fake", part: {} });

// Prints one event, starts a grandchild that would outlive a plain kill, then hangs.
// The grandchild shares stdout, so the run only ends once it is gone as well.
const HANGING_OPENCODE = `#!/bin/sh
sleep 600 &
echo $! > "$PIDS"
echo $$ >> "$PIDS"
echo "$HOME" > "$PIDS.home"
echo '${STEP_START}'
wait
`;

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie is dead, just not yet reaped by its new parent
  } catch {
    return false;
  }
}

async function withFakeOpencode(use: (dir: string, binary: string, pidsFile: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "agentiso-fake-oc-"));
  const pidsFile = join(dir, "pids");
  try {
    await writeFile(join(dir, "opencode"), HANGING_OPENCODE);
    await chmod(join(dir, "opencode"), 0o755);
    await use(dir, join(dir, "opencode"), pidsFile);
  } finally {
    const pids = existsSync(pidsFile) ? (await readFile(pidsFile, "utf8")).split("\n").filter(Boolean).map(Number) : [];
    for (const pid of pids.filter(alive)) process.kill(pid, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
}

describe("opencode host runner", () => {
  test("a run past its deadline is a timeout and leaves no process of its group behind", async () => {
    await withFakeOpencode(async (dir, binary, pidsFile) => {
      const { result, events, runDir } = await runOpencodeOnHost({ cwd: dir, prompt: "p", config: {}, timeoutMs: 500, binary, baseEnv: { PATH: process.env.PATH!, PIDS: pidsFile } });
      assert.equal(result.status, "timeout");
      assert.equal(events[0]!.type, "step_start");
      assert.equal(result.sessionId, "ses_fake");
      const pids = (await readFile(pidsFile, "utf8")).split("\n").filter(Boolean).map(Number);
      assert.equal(pids.length, 2);
      assert.deepEqual(pids.filter(alive), [], "no process of the run survives");
      assert.equal(existsSync(runDir), false, "the per-run HOME/XDG dir is removed");
      assert.equal((await readFile(`${pidsFile}.home`, "utf8")).trim(), join(runDir, "home"));
    });
  });

  test("an aborted run is CANCELLED and its process group is gone too", async () => {
    await withFakeOpencode(async (dir, binary, pidsFile) => {
      const abort = new AbortController();
      const running = runOpencodeOnHost({ cwd: dir, prompt: "p", config: {}, timeoutMs: 600_000, binary, signal: abort.signal, baseEnv: { PATH: process.env.PATH!, PIDS: pidsFile }, onEvent: () => abort.abort() });
      await assert.rejects(running, (err) => isAgentisoError(err, "CANCELLED"));
      const pids = (await readFile(pidsFile, "utf8")).split("\n").filter(Boolean).map(Number);
      assert.deepEqual(pids.filter(alive), []);
    });
  });

  test("a binary that does not exist fails to start with BACKEND_FAILED", async () => {
    await assert.rejects(
      runOpencodeOnHost({ cwd: tmpdir(), prompt: "p", config: {}, timeoutMs: 5_000, binary: "/nonexistent/opencode" }),
      (err) => isAgentisoError(err, "BACKEND_FAILED"),
    );
  });
});
