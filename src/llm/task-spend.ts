// One task's spend through the proxy: tokens and cost summed over its responses, and the cap
// that refuses requests past it. The cap holds under parallel requests: each request reserves
// what it may cost before it is forwarded (its input estimate plus its max_tokens, clamped to
// what is left) and settles with its real usage when its response ends. A request finding the
// budget spent or wholly reserved by requests in flight is refused, so the task overshoots its
// cap by at most what the last admitted requests used beyond their reservations.
import { addUsage, totalTokens, zeroUsage, type TokenUsage } from "./token-usage.js";

/** US dollars per million tokens. */
export interface TokenPrices {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

export interface SpendLimits {
  /** Cap on input + output + cache read + cache write tokens. */
  maxTokens?: number;
  /** Cap on cost in USD (needs prices on the proxy). */
  maxCostUsd?: number;
}

export interface TaskUsage {
  tokens: TokenUsage;
  costUsd: number;
  /** Requests forwarded upstream. */
  requests: number;
  /** Requests answered 429 because the cap was reached. */
  refused: number;
}

/** What an admitted request holds against the budget until its response is settled. */
export interface Reservation {
  /** Records the request's real usage and frees what it held; later calls do nothing. */
  settle(usage: TokenUsage): void;
}

export class TaskSpend {
  private tokens = zeroUsage();
  private costUsd = 0;
  private requests = 0;
  private refused = 0;
  private reservedTokens = 0;
  private reservedCostUsd = 0;
  private inFlight = 0;

  constructor(
    readonly taskId: string,
    private readonly limits: SpendLimits,
    private readonly prices: TokenPrices | undefined,
  ) {}

  // Why the next request must be refused, or undefined when the task may still spend.
  exhausted(): string | undefined {
    const { maxTokens, maxCostUsd } = this.limits;
    const used = totalTokens(this.tokens);
    if (maxTokens !== undefined && used >= maxTokens) {
      return `task ${this.taskId} reached its token budget: ${used} of ${maxTokens} tokens used`;
    }
    if (maxCostUsd !== undefined && this.costUsd >= maxCostUsd) {
      return `task ${this.taskId} reached its cost budget: $${this.costUsd.toFixed(4)} of $${maxCostUsd} spent`;
    }
    return undefined;
  }

  // Admits a request that may cost `estimate` (counting it as forwarded), or returns why not
  // (counting it as refused). A free request (zero estimate) needs no room, only a budget left.
  reserve(estimate: TokenUsage): Reservation | string {
    const refusal = this.exhausted() ?? this.taken(estimate);
    if (refusal) {
      this.refused += 1;
      return refusal;
    }
    const { maxTokens, maxCostUsd } = this.limits;
    // a free request may come while the rest is reserved: it holds nothing (never less)
    const heldTokens = maxTokens === undefined ? 0 : Math.max(0, Math.min(totalTokens(estimate), maxTokens - totalTokens(this.tokens) - this.reservedTokens));
    const heldCost = maxCostUsd === undefined ? 0 : Math.max(0, Math.min(costOf(estimate, this.prices), maxCostUsd - this.costUsd - this.reservedCostUsd));
    this.reservedTokens += heldTokens;
    this.reservedCostUsd += heldCost;
    this.inFlight += 1;
    this.requests += 1;
    let settled = false;
    return {
      settle: (usage) => {
        if (settled) return;
        settled = true;
        this.reservedTokens -= heldTokens;
        this.reservedCostUsd -= heldCost;
        this.inFlight -= 1;
        if (this.inFlight === 0) this.reservedCostUsd = 0; // no float residue outlives the requests
        this.tokens = addUsage(this.tokens, usage);
        this.costUsd += costOf(usage, this.prices);
      },
    };
  }

  snapshot(): TaskUsage {
    return { tokens: { ...this.tokens }, costUsd: this.costUsd, requests: this.requests, refused: this.refused };
  }

  // Why a request with this estimate finds no room left beside the requests in flight.
  private taken(estimate: TokenUsage): string | undefined {
    if (totalTokens(estimate) === 0) return undefined;
    const { maxTokens, maxCostUsd } = this.limits;
    const used = totalTokens(this.tokens);
    if (maxTokens !== undefined && used + this.reservedTokens >= maxTokens) {
      return `task ${this.taskId}'s token budget is taken: ${used} of ${maxTokens} tokens used and the rest reserved by ${this.inFlight} request(s) in flight`;
    }
    if (maxCostUsd !== undefined && this.costUsd + this.reservedCostUsd >= maxCostUsd) {
      return `task ${this.taskId}'s cost budget is taken: $${this.costUsd.toFixed(4)} of $${maxCostUsd} spent and the rest reserved by ${this.inFlight} request(s) in flight`;
    }
    return undefined;
  }
}

// Cost of one response in USD; 0 without prices. Reasoning is billed inside output.
export function costOf(usage: TokenUsage, prices: TokenPrices | undefined): number {
  if (!prices) return 0;
  const perToken = (count: number, perMillion = 0) => (count * perMillion) / 1_000_000;
  return (
    perToken(usage.input, prices.input) +
    perToken(usage.output, prices.output) +
    perToken(usage.cacheRead, prices.cacheRead ?? prices.input) +
    perToken(usage.cacheWrite, prices.cacheWrite ?? prices.input)
  );
}
