// The thrash guard's decision, fed samples by hand: at the limit with major faults for a whole
// window means thrashing; below the limit, a quiet cgroup, or a pause in the faults does not.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chooseVictim, ThrashDetector, type MemorySample } from "../../src/runtimes/container/thrash-detector.js";

const MiB = 1024 * 1024;
const policy = { windowMs: 3_000, majorFaultsPerSecond: 20, headroomBytes: 4 * MiB };

// Feeds samples every 500 ms; returns the tick index (ms) of the first `true`, or undefined.
function firstThrash(samples: MemorySample[]): number | undefined {
  const detector = new ThrashDetector(policy);
  const at = samples.findIndex((s, i) => detector.observe(s, i * 500));
  return at < 0 ? undefined : at * 500;
}

const atLimit = (faults: number): MemorySample => ({ usageBytes: 96 * MiB, limitBytes: 96 * MiB, majorFaults: faults });

describe("ThrashDetector", () => {
  test("faults at the limit for the whole window are thrashing, counted from the last quiet sample", () => {
    const samples = Array.from({ length: 10 }, (_, i) => atLimit(i * 100)); // 200 faults/s
    assert.equal(firstThrash(samples), 3_000);
  });

  test("usage below the limit (by more than the headroom) is never thrashing", () => {
    const samples = Array.from({ length: 20 }, (_, i) => ({ ...atLimit(i * 1000), usageBytes: 80 * MiB }));
    assert.equal(firstThrash(samples), undefined);
  });

  test("usage within the headroom counts as at the limit", () => {
    const samples = Array.from({ length: 10 }, (_, i) => ({ ...atLimit(i * 100), usageBytes: 93 * MiB }));
    assert.equal(firstThrash(samples), 3_000);
  });

  test("a cgroup at its limit without major faults (page cache filled by writes) is not thrashing", () => {
    const samples = Array.from({ length: 20 }, () => atLimit(7));
    assert.equal(firstThrash(samples), undefined);
  });

  test("faults below the rate do not count; a quiet tick restarts the window", () => {
    const slow = Array.from({ length: 20 }, (_, i) => atLimit(i * 5)); // 10 faults/s
    assert.equal(firstThrash(slow), undefined);
    let faults = 0;
    const gappy = Array.from({ length: 20 }, (_, i) => atLimit((faults += i % 5 === 4 ? 0 : 100)));
    assert.equal(firstThrash(gappy), undefined);
  });

  test("no limit (max) is never thrashing", () => {
    const samples = Array.from({ length: 20 }, (_, i) => ({ usageBytes: 500 * MiB, limitBytes: Infinity, majorFaults: i * 1000 }));
    assert.equal(firstThrash(samples), undefined);
  });

  test("after reset() the next verdict needs a whole window again", () => {
    const detector = new ThrashDetector(policy);
    let t = 0;
    for (let i = 0; i < 7; i++) detector.observe(atLimit(i * 100), (t = i * 500));
    assert.equal(detector.observe(atLimit(700), (t += 500)), true);
    detector.reset();
    assert.equal(detector.observe(atLimit(800), (t += 500)), false);
    for (let i = 0; i < 4; i++) detector.observe(atLimit(900 + i * 100), (t += 500));
    assert.equal(detector.observe(atLimit(1400), (t += 500)), true);
  });
});

describe("chooseVictim", () => {
  test("picks the largest process that is not protected", () => {
    const procs = [
      { pid: 1, residentBytes: 1 * MiB },
      { pid: 7, residentBytes: 30 * MiB },
      { pid: 20, residentBytes: 60 * MiB },
      { pid: 21, residentBytes: 5 * MiB },
    ];
    assert.equal(chooseVictim(procs, new Set([1, 7]))?.pid, 20);
    assert.equal(chooseVictim(procs, new Set([1, 7, 20]))?.pid, 21);
  });

  test("nothing to kill when only protected processes run", () => {
    assert.equal(chooseVictim([{ pid: 1, residentBytes: MiB }, { pid: 7, residentBytes: 90 * MiB }], new Set([1, 7])), undefined);
  });
});
