// The engine lock of a state dir: exactly one of many simultaneous starters wins, a dead
// holder's lock is free at once, and nothing in the pid file can make two engines run.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { acquireStateLock, readLockHolder } from "../../src/engine/state-lock.js";
import { isAgentisoError } from "../../src/core/errors.js";

const HOLDER = join(import.meta.dirname, "../support/lock-holder.ts");

interface Racer {
  pid: number;
  answer: Promise<string>;
  release(): void;
}

// Every racer started by a test; killed when the test ends, whatever its outcome.
const racers = new Set<ChildProcess>();

function startRacer(stateDir: string, startAt = 0): Racer {
  const child = spawn(process.execPath, ["--import", "tsx", HOLDER, stateDir, String(startAt)], { stdio: ["pipe", "pipe", "inherit"] });
  racers.add(child);
  child.once("exit", () => racers.delete(child));
  const answer = new Promise<string>((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
  return { pid: child.pid!, answer, release: () => child.stdin.end() };
}

function withStateDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "agentiso-lock-"));
  return fn(dir).finally(() => {
    for (const child of racers) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
}

describe("engine state lock", () => {
  test("of 8 processes racing for one state dir exactly one wins; the others are told its pid", () =>
    withStateDir(async (dir) => {
      for (let round = 0; round < 3; round++) {
        const startAt = Date.now() + 1500; // every racer has loaded by then
        const racers = Array.from({ length: 8 }, () => startRacer(dir, startAt));
        const answers = await Promise.all(racers.map((r) => r.answer));
        const winners = racers.filter((_, i) => answers[i] === "won");
        assert.equal(winners.length, 1, answers.join("\n"));
        for (const answer of answers.filter((a) => a !== "won")) assert.match(answer, new RegExp(`^conflict .*pid ${winners[0]!.pid}`));
        assert.equal(readLockHolder(dir), winners[0]!.pid);
        racers.forEach((r) => r.release());
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }));

  test("a holder killed with SIGKILL leaves the lock free at once, its stale pid file notwithstanding", () =>
    withStateDir(async (dir) => {
      const holder = startRacer(dir);
      assert.equal(await holder.answer, "won");
      process.kill(holder.pid, "SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(readLockHolder(dir), holder.pid, "the dead holder's pid file is still there");
      const lock = await acquireStateLock(dir);
      assert.equal(readLockHolder(dir), process.pid);
      lock.release();
    }));

  test("an empty or garbage pid file (a starter caught mid-write) never lets a second engine in", () =>
    withStateDir(async (dir) => {
      const holder = startRacer(dir);
      assert.equal(await holder.answer, "won");
      for (const content of ["", "not a pid\n", "999999999\n"]) {
        writeFileSync(join(dir, "engine.lock"), content);
        await assert.rejects(acquireStateLock(dir), (err: unknown) => isAgentisoError(err, "CONFLICT"));
      }
      holder.release();
    }));

  test("the same state dir reached through a symlink is the same lock", () =>
    withStateDir(async (dir) => {
      const link = `${dir}-link`;
      symlinkSync(dir, link);
      try {
        const lock = await acquireStateLock(dir);
        await assert.rejects(acquireStateLock(link), (err: unknown) => isAgentisoError(err, "CONFLICT"));
        lock.release();
        (await acquireStateLock(link)).release();
      } finally {
        rmSync(link);
      }
    }));
});
