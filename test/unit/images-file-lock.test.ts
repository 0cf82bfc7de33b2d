// The per-image build lock: exclusive across processes, bounded wait, freed when its holder dies.
import { describe, test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireFileLock } from "../../src/images/file-lock.js";
import { isAgentisoError } from "../../src/core/errors.js";

describe("file lock", () => {
  let dir: string;
  let lockPath: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "agentiso-lock-test-"));
    lockPath = join(dir, "image.lock");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a second taker gets the lock only after the first releases it", async () => {
    const events: string[] = [];
    const first = await acquireFileLock(lockPath, 10_000);
    const second = acquireFileLock(lockPath, 10_000).then((lock) => {
      events.push("second acquired");
      return lock;
    });
    // a round trip through flock proves the second taker is already waiting, not yet started
    await acquireFileLock(join(dir, "other.lock"), 10_000).then((l) => l.release());
    events.push("first releasing");
    await first.release();
    await (await second).release();
    assert.deepEqual(events, ["first releasing", "second acquired"]);
  });

  test("waiting longer than the timeout is a TIMEOUT that names the lock", async () => {
    const held = await acquireFileLock(lockPath, 10_000);
    try {
      await assert.rejects(acquireFileLock(lockPath, 1000), (err) => isAgentisoError(err, "TIMEOUT") && err.message.includes(lockPath));
    } finally {
      await held.release();
    }
  });

  test("a lock whose holder process was killed is free again", async () => {
    const holderCode = `import { acquireFileLock } from ${JSON.stringify(join(import.meta.dirname, "../../src/images/file-lock.ts"))};
await acquireFileLock(${JSON.stringify(lockPath)}, 10000);
process.stdout.write("held\\n");
setInterval(() => {}, 1000);`;
    const holder = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", holderCode], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const [chunk] = (await once(holder.stdout, "data")) as [Buffer];
      assert.equal(chunk.toString().trim(), "held");
      holder.kill("SIGKILL");
      await once(holder, "close");
      const lock = await acquireFileLock(lockPath, 10_000);
      await lock.release();
    } finally {
      if (holder.exitCode === null && holder.signalCode === null) holder.kill("SIGKILL");
    }
  });
});
