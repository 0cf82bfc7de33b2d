// Rate limits per principal and tool category (create / exec / other): one token bucket
// each. The principal is an MCP client's credential (all its sessions share its buckets, so a
// new session buys no new calls) or, for the host's own sessions (stdio, unix socket), the
// session. A call costs what it does: a 64-fork batch takes 64 tokens. A call costing more
// than the bucket holds waits for a full bucket and leaves it in debt. Calls without a
// principal (the CLI, the control API used directly) are not limited: they come from the
// host's operator. A refused call gets QUOTA_EXCEEDED saying when to retry.
import { AgentisoError } from "../core/errors.js";
import type { OperationCategory } from "../contract/contract.js";

export interface RateLimit {
  /** Tokens added per minute. */
  perMinute: number;
  /** Bucket size: how many calls may come at once. */
  burst: number;
}

export type RateLimits = Record<OperationCategory, RateLimit>;

interface Bucket {
  tokens: number;
  updatedMs: number;
}

const MAX_BUCKETS = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: RateLimits,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  // Takes `cost` tokens for (principal, category) or throws QUOTA_EXCEEDED with the wait.
  admit(principal: string | undefined, category: OperationCategory, tool: string, cost = 1): void {
    if (principal === undefined) return;
    const limit = this.limits[category];
    const now = this.nowMs();
    const key = `${category}\0${principal}`;
    const bucket = this.refill(this.buckets.get(key) ?? { tokens: limit.burst, updatedMs: now }, limit, now);
    const needed = Math.min(Math.max(cost, 1), limit.burst);
    if (bucket.tokens < needed) {
      const waitSeconds = Math.max(0.1, ((needed - bucket.tokens) * 60) / limit.perMinute);
      const costs = cost > 1 ? `; this call costs ${cost}` : "";
      throw new AgentisoError(
        "QUOTA_EXCEEDED",
        `rate limit for ${category} tools reached (${limit.perMinute} per minute, bursts of ${limit.burst}, per client${costs}): retry ${tool} in ${waitSeconds.toFixed(1)} s`,
        { details: { category, cost, retryAfterSeconds: Number(waitSeconds.toFixed(1)) } },
      );
    }
    bucket.tokens -= Math.max(cost, 1);
    if (!this.buckets.has(key) && this.buckets.size >= MAX_BUCKETS) this.evictFull(now);
    this.buckets.set(key, bucket);
  }

  private refill(bucket: Bucket, limit: RateLimit, now: number): Bucket {
    const added = ((now - bucket.updatedMs) / 60_000) * limit.perMinute;
    return { tokens: Math.min(limit.burst, bucket.tokens + added), updatedMs: now };
  }

  // Buckets that have refilled completely carry no state worth keeping.
  private evictFull(now: number): void {
    for (const [key, bucket] of this.buckets) {
      const category = key.slice(0, key.indexOf("\0")) as keyof RateLimits;
      if (this.refill(bucket, this.limits[category], now).tokens >= this.limits[category].burst) this.buckets.delete(key);
    }
  }
}
