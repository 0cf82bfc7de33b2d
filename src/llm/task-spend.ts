// One task's spend through the proxy: tokens and cost summed over its responses, and the
// cap that refuses further requests once reached. Requests already in flight finish, so a
// task can overshoot its cap by at most the responses it had running when it got there.
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

export class TaskSpend {
  private tokens = zeroUsage();
  private costUsd = 0;
  private requests = 0;
  private refused = 0;

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

  countRefused(): void {
    this.refused += 1;
  }

  countRequest(): void {
    this.requests += 1;
  }

  record(usage: TokenUsage): void {
    this.tokens = addUsage(this.tokens, usage);
    this.costUsd += costOf(usage, this.prices);
  }

  snapshot(): TaskUsage {
    return { tokens: { ...this.tokens }, costUsd: this.costUsd, requests: this.requests, refused: this.refused };
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
