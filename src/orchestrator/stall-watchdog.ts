// Notices an opencode run that stopped making progress (a provider that went silent
// mid-stream, a hung tool): every opencode event resets the timer, and after `[run]
// stall_timeout` without one its signal aborts, which cancels the exec (the agent kills the
// process group). Distinct from the task timeout, which bounds the whole run.
import { AgentisoError } from "../core/errors.js";

/**
 * How long opencode may take to print its first event, at least. Starting the 180 MB binary,
 * its config and its first model request can take over 15 s on a loaded 2-core host: a short
 * stall_timeout must not call a slow start a stall (CI caught exactly that).
 */
export const FIRST_EVENT_GRACE_MS = 60_000;

export class StallWatchdog implements Disposable {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private windowMs: number;

  constructor(readonly timeoutMs: number) {
    this.windowMs = Math.max(timeoutMs, FIRST_EVENT_GRACE_MS);
    this.arm();
  }

  /** The silence that stopped the run: stall_timeout, or the first-event grace when opencode never printed one. */
  get silenceMs(): number {
    return this.windowMs;
  }

  /** Aborts (with a TIMEOUT error naming the silence) once the run stalled. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stalled(): boolean {
    return this.controller.signal.aborted;
  }

  // An event came: the run is alive, the silence starts over.
  touch(): void {
    if (this.stalled) return;
    this.windowMs = this.timeoutMs;
    this.arm();
  }

  [Symbol.dispose](): void {
    clearTimeout(this.timer);
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new AgentisoError("TIMEOUT", `opencode printed no event for ${describeMs(this.windowMs)}`)), this.windowMs);
  }
}

// "15 s", "5 min", "1.5 min": how a person says the stall timeout.
export function describeMs(ms: number): string {
  return ms >= 60_000 ? `${+(ms / 60_000).toFixed(1)} min` : `${+(ms / 1000).toFixed(1)} s`;
}
