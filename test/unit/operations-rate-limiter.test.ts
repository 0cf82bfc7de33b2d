// Token buckets per principal (client credential or host session) and tool category, charged
// by cost, on a fake clock.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isAgentisoError } from "../../src/core/errors.js";
import { RateLimiter } from "../../src/operations/rate-limiter.js";

const LIMITS = { create: { perMinute: 6, burst: 2 }, exec: { perMinute: 60, burst: 5 }, other: { perMinute: 600, burst: 50 } };

function limiter() {
  const clock = { now: 0 };
  return { clock, limiter: new RateLimiter(LIMITS, () => clock.now) };
}

describe("rate limiter", () => {
  test("a session may burst, is then refused with QUOTA_EXCEEDED saying when to retry, and may call again after the wait", () => {
    const { clock, limiter: rl } = limiter();
    rl.admit("s1", "create", "workspace_create");
    rl.admit("s1", "create", "workspace_create");
    assert.throws(
      () => rl.admit("s1", "create", "workspace_create"),
      (err: unknown) => isAgentisoError(err, "QUOTA_EXCEEDED") && /6 per minute.*retry workspace_create in 10\.0 s/.test(err.message),
    );
    clock.now += 10_000;
    rl.admit("s1", "create", "workspace_create");
  });

  test("categories and sessions have separate buckets", () => {
    const { limiter: rl } = limiter();
    rl.admit("s1", "create", "workspace_create");
    rl.admit("s1", "create", "workspace_create");
    rl.admit("s1", "exec", "exec");
    rl.admit("s2", "create", "workspace_create");
  });

  test("a call costs what it does: a fork of 2 takes 2 tokens, and a batch bigger than the bucket waits for a full one and leaves it in debt", () => {
    const { clock, limiter: rl } = limiter();
    rl.admit("c1", "create", "workspace_fork", 2);
    assert.throws(() => rl.admit("c1", "create", "workspace_create"), (err: unknown) => isAgentisoError(err, "QUOTA_EXCEEDED"));
    clock.now += 10_000; // one token back
    assert.throws(
      () => rl.admit("c1", "create", "workspace_batch_fork", 64),
      (err: unknown) => isAgentisoError(err, "QUOTA_EXCEEDED") && /this call costs 64\): retry workspace_batch_fork in 10\.0 s/.test(err.message),
    );
    clock.now += 10_000; // the bucket is full (2): the 64-fork goes, 62 in debt
    rl.admit("c1", "create", "workspace_batch_fork", 64);
    assert.throws(
      () => rl.admit("c1", "create", "workspace_create"),
      (err: unknown) => isAgentisoError(err, "QUOTA_EXCEEDED") && /retry workspace_create in 630\.0 s/.test(err.message),
    );
  });

  test("calls without a session (the CLI) are never limited", () => {
    const { limiter: rl } = limiter();
    for (let i = 0; i < 100; i++) rl.admit(undefined, "create", "workspace_create");
  });
});
