// How long the proxy waits after a 429/503, and the provider gate every task goes through.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ProviderGate } from "../../src/llm/provider-gate.js";
import { DEFAULT_THROTTLE_POLICY, isThrottleStatus, parseRetryAfterMs, throttleWaitMs } from "../../src/llm/throttle-policy.js";

const policy = DEFAULT_THROTTLE_POLICY;

describe("throttle policy", () => {
  test("Retry-After is read as seconds or as an HTTP date; garbage is ignored", () => {
    const now = Date.parse("Wed, 21 Oct 2026 07:28:00 GMT");
    assert.equal(parseRetryAfterMs("2", now), 2000);
    assert.equal(parseRetryAfterMs(" 1.5 ", now), 1500);
    assert.equal(parseRetryAfterMs("Wed, 21 Oct 2026 07:28:07 GMT", now), 7000);
    assert.equal(parseRetryAfterMs("Wed, 21 Oct 2026 07:27:00 GMT", now), 0, "a date in the past means now");
    assert.equal(parseRetryAfterMs("soon", now), undefined);
    assert.equal(parseRetryAfterMs(undefined, now), undefined);
  });

  test("a Retry-After is honoured up to the cap; without one the backoff doubles, jittered, up to its ceiling", () => {
    assert.equal(throttleWaitMs("3", 1, policy), 3000);
    assert.equal(throttleWaitMs("3600", 1, policy), policy.maxRetryAfterMs);
    assert.equal(throttleWaitMs(undefined, 1, policy, () => 1), 1000);
    assert.equal(throttleWaitMs(undefined, 3, policy, () => 1), 4000);
    assert.equal(throttleWaitMs(undefined, 3, policy, () => 0.5), 2000);
    assert.equal(throttleWaitMs(undefined, 20, policy, () => 1), policy.maxBackoffMs);
    assert.equal(throttleWaitMs(undefined, 20, policy, () => 0), 0);
  });

  test("429 and 503 are throttling; other errors are not", () => {
    assert.deepEqual([429, 503, 500, 502, 400, 200].map(isThrottleStatus), [true, true, false, false, false, false]);
  });
});

describe("provider gate", () => {
  test("no slot is handed out while paused, and at most maxConcurrency at once", async () => {
    let now = 0;
    const gate = new ProviderGate(1, () => now);
    const first = await gate.acquire(new AbortController().signal);
    let secondIn = false;
    const second = gate.acquire(new AbortController().signal).then((release) => ((secondIn = true), release));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(secondIn, false, "one slot only");
    gate.pause(30);
    first();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(secondIn, false, "the pause holds it");
    now = 30;
    (await second)();
    assert.equal(gate.active, 0);
  });

  test("a waiter that gives up passes its slot on to the next", async () => {
    const gate = new ProviderGate(1);
    const held = await gate.acquire(new AbortController().signal);
    const quitter = new AbortController();
    const gaveUp = gate.acquire(quitter.signal);
    const patient = gate.acquire(new AbortController().signal);
    quitter.abort(new Error("client gone"));
    await assert.rejects(gaveUp, /client gone/);
    held();
    const release = await patient;
    assert.equal(gate.active, 1);
    release();
    release();
    assert.equal(gate.active, 0, "a release counts once");
  });
});
