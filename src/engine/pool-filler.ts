// Refills the warm pool in the background. At most `concurrency` pooled workspaces start at
// once, and none starts while a caller's create or fork is under way: callers first, the pool
// takes what is left. A key whose fill fails waits (1 s, doubling up to 5 min) before the next
// try, so a broken image cannot keep the machine busy.
import type { Logger } from "../core/logger.js";

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 300_000;
const CALLERS_POLL_MS = 50;

/** One pool as the filler sees it. */
export interface FillTarget {
  key: string;
  /** How many it lacks, not counting those being started now (0: full, or dormant). */
  lacking(): number;
  /** Starts one pooled workspace (resolves once it is ready to hand out); `signal` aborts it when the pool closes. */
  fillOne(signal: AbortSignal): Promise<void>;
}

export interface FillerOptions {
  concurrency: number;
  targets: () => FillTarget[];
  /** True while a caller's create or fork runs. */
  callersBusy: () => boolean;
  logger: Logger;
}

export class PoolFiller {
  private readonly starting = new Map<string, number>();
  private readonly active = new Set<Promise<void>>();
  private readonly backoff = new Map<string, { untilMs: number; delayMs: number }>();
  private running: Promise<void> | undefined;
  private dirty = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly closing = new AbortController();

  constructor(private readonly options: FillerOptions) {}

  // Looks again at what the pools lack (after a start, a claim, a reap); returns at once.
  kick(): void {
    if (this.closed) return;
    this.dirty = true;
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** Pooled workspaces of `key` being started now. */
  startingOf(key: string): number {
    return this.starting.get(key) ?? 0;
  }

  // Starts nothing more, cuts the starts under way short (a stopping daemon must not wait for an image build) and waits for them.
  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    clearTimeout(this.retryTimer);
    await this.running;
    await Promise.allSettled([...this.active]);
  }

  private async run(): Promise<void> {
    while (!this.closed && (this.dirty || this.active.size > 0)) {
      this.dirty = false;
      const target = this.active.size < this.options.concurrency ? this.next() : undefined;
      if (target) {
        await this.callersDone();
        if (!this.closed && this.lackingNow(target) > 0) this.launch(target);
        this.dirty = true; // look again: more may be lacking, or the wait changed what is
      } else if (this.active.size > 0) {
        await Promise.race(this.active);
      }
    }
    this.scheduleRetry();
  }

  // The pool that lacks most, past its back-off.
  private next(): FillTarget | undefined {
    const now = Date.now();
    const due = this.options.targets().filter((t) => this.lackingNow(t) > 0 && (this.backoff.get(t.key)?.untilMs ?? 0) <= now);
    return due.sort((a, b) => this.lackingNow(b) - this.lackingNow(a))[0];
  }

  private lackingNow(target: FillTarget): number {
    return target.lacking() - this.startingOf(target.key);
  }

  private launch(target: FillTarget): void {
    this.starting.set(target.key, this.startingOf(target.key) + 1);
    const started = target
      .fillOne(this.closing.signal)
      .then(
        () => void this.backoff.delete(target.key),
        (err: unknown) => this.failed(target.key, err),
      )
      .finally(() => {
        this.starting.set(target.key, this.startingOf(target.key) - 1);
        this.active.delete(started);
        this.dirty = true;
      });
    this.active.add(started);
  }

  private failed(key: string, err: unknown): void {
    if (this.closed) return; // cut short by close()
    const delayMs = Math.min(MAX_RETRY_MS, (this.backoff.get(key)?.delayMs ?? FIRST_RETRY_MS / 2) * 2);
    this.backoff.set(key, { untilMs: Date.now() + delayMs, delayMs });
    this.options.logger.error("warm pool: starting a pooled workspace failed", { pool: key, retryInMs: delayMs, err });
  }

  // Looks again when the earliest back-off ends.
  private scheduleRetry(): void {
    clearTimeout(this.retryTimer);
    const untilMs = Math.min(...[...this.backoff.values()].map((b) => b.untilMs));
    if (!this.closed && Number.isFinite(untilMs)) this.retryTimer = setTimeout(() => this.kick(), Math.max(0, untilMs - Date.now())).unref();
  }

  private async callersDone(): Promise<void> {
    while (!this.closed && this.options.callersBusy()) await new Promise((resolve) => setTimeout(resolve, CALLERS_POLL_MS));
  }
}
