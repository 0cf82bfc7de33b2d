// How long the proxy waits before replaying a request the provider throttled (HTTP 429 or
// 503): the provider's Retry-After when it sent one (seconds or an HTTP date), capped so one
// answer cannot park a task for an hour; else exponential backoff with full jitter, so
// parallel workers do not come back in lockstep. Bounded in attempts and in total wait.

export interface ThrottlePolicy {
  /** Upstream attempts per request, the first included; the last throttled answer is passed on. */
  maxAttempts: number;
  /** Total time one request may spend waiting out throttling before the error is passed on. */
  maxTotalWaitMs: number;
  /** Cap on a single Retry-After. */
  maxRetryAfterMs: number;
  /** Backoff without Retry-After: up to base × 2^(attempt-1), at most maxBackoffMs. */
  baseBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = {
  maxAttempts: 8,
  maxTotalWaitMs: 180_000,
  maxRetryAfterMs: 60_000,
  baseBackoffMs: 1_000,
  maxBackoffMs: 30_000,
};

// The statuses that mean "later", not "never": rate limited, or overloaded.
export function isThrottleStatus(status: number | undefined): boolean {
  return status === 429 || status === 503;
}

// Retry-After as milliseconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable.
export function parseRetryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

// The wait before attempt `attempt + 1`, after `attempt` (1-based) throttled answers.
export function throttleWaitMs(retryAfter: string | undefined, attempt: number, policy: ThrottlePolicy, random: () => number = Math.random, now = Date.now()): number {
  const asked = parseRetryAfterMs(retryAfter, now);
  if (asked !== undefined) return Math.min(asked, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxBackoffMs, policy.baseBackoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}
