// The line a background daemon writes to the CLI that started it: ready, or its start error.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentisoError } from "../../src/core/errors.js";
import { parseStartLine, startReporter } from "../../src/core/ready-pipe.js";

describe("daemon start line", () => {
  test("a failed start carries the error's code and message (the failed step and its stderr) to the CLI", () => {
    const dir = mkdtempSync(join(tmpdir(), "agentiso-ready-"));
    const file = join(dir, "said"); // a file stands in for the pipe: the reporter only writes an fd
    const report = startReporter(openSync(file, "w"));
    report.failed(new AgentisoError("BACKEND_FAILED", "mount -t btrfs -- /dev/loop3 /x exited with 32: wrong fs type"));
    report.ready(); // said once: later calls do nothing
    const outcome = parseStartLine(readFileSync(file, "utf8"));
    rmSync(dir, { recursive: true });
    assert.ok(outcome && !outcome.ready);
    assert.equal(outcome.error.code, "BACKEND_FAILED");
    assert.match(outcome.error.message, /wrong fs type/);
  });

  test("ready is ready; a partial line, garbage or an unknown code are not trusted", () => {
    assert.deepEqual(parseStartLine("ready\n"), { ready: true });
    assert.equal(parseStartLine("rea"), undefined);
    assert.equal(parseStartLine("failed {oops\n"), undefined);
    const odd = parseStartLine('failed {"code":"EVIL","message":"x"}\n');
    assert.ok(odd && !odd.ready && odd.error.code === "INTERNAL");
  });
});
