// Token buckets per MCP session and tool category, on a fake clock.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isAgentisoError } from "../../src/core/errors.js";
import { RateLimiter } from "../../src/mcp/rate-limiter.js";

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

  test("calls without a session (the CLI) are never limited", () => {
    const { limiter: rl } = limiter();
    for (let i = 0; i < 100; i++) rl.admit(undefined, "create", "workspace_create");
  });
});
