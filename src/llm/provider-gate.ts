// One gate per provider, shared by every task of a proxy: it bounds the requests in flight
// upstream ([model] max_concurrency) and, while the provider is throttling (a 429 or 503 told
// the proxy to wait), holds every task's next request until the pause is over, so parallel
// workers back off together instead of each hammering a provider that already said no.
import { delay } from "../core/deadline.js";

export class ProviderGate {
  private inFlight = 0;
  private pausedUntil = 0;
  private readonly waiting = new Set<() => void>();

  constructor(
    /** Upstream requests in flight at most; Infinity: no limit. */
    readonly maxConcurrency = Infinity,
    private readonly now: () => number = Date.now,
  ) {
    if (!(maxConcurrency >= 1)) throw new RangeError("maxConcurrency must be at least 1");
  }

  // Resolves with the release of one slot once the provider is not paused and a slot is free;
  // rejects with the signal's reason when it aborts first. Call the release exactly when the
  // upstream request is over (its response ended or failed).
  async acquire(signal: AbortSignal): Promise<() => void> {
    try {
      return await this.take(signal);
    } catch (err) {
      // it may have been woken for a slot it no longer takes: pass the slot on
      this.wakeNext();
      throw err;
    }
  }

  // The provider asked for a pause: nobody sends to it for the next `ms` (pauses never shorten).
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  /** Upstream requests holding a slot now. */
  get active(): number {
    return this.inFlight;
  }

  private async take(signal: AbortSignal): Promise<() => void> {
    for (;;) {
      signal.throwIfAborted();
      const pausedMs = this.pausedUntil - this.now();
      if (pausedMs > 0) {
        await delay(pausedMs, signal);
        continue;
      }
      if (this.inFlight < this.maxConcurrency) {
        this.inFlight++;
        return once(() => this.release());
      }
      await this.slotFreed(signal);
    }
  }

  private release(): void {
    this.inFlight--;
    this.wakeNext();
  }

  private wakeNext(): void {
    if (this.inFlight >= this.maxConcurrency) return;
    const [wake] = this.waiting;
    if (wake) {
      this.waiting.delete(wake);
      wake();
    }
  }

  private slotFreed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiting.delete(wake);
        reject(signal.reason);
      };
      this.waiting.add(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
