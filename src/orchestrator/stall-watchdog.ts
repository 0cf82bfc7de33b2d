// Notices an opencode run that stopped making progress (a provider that went silent
// mid-stream, a hung tool): every opencode event resets the timer, and after `[run]
// stall_timeout` without one its signal aborts, which cancels the exec (the agent kills the
// process group). Distinct from the task timeout, which bounds the whole run.
import { AgentisoError } from "../core/errors.js";

export class StallWatchdog implements Disposable {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly timeoutMs: number) {
    this.arm();
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
    if (!this.stalled) this.arm();
  }

  [Symbol.dispose](): void {
    clearTimeout(this.timer);
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new AgentisoError("TIMEOUT", `opencode printed no event for ${describeMs(this.timeoutMs)}`)), this.timeoutMs);
  }
}

// "15 s", "5 min", "1.5 min": how a person says the stall timeout.
export function describeMs(ms: number): string {
  return ms >= 60_000 ? `${+(ms / 60_000).toFixed(1)} min` : `${+(ms / 1000).toFixed(1)} s`;
}
