// Per-stream flow control, the same on both ends: a sender may have at most `limitBytes` of
// data the receiver has not acknowledged (`ack`). Pure bookkeeping; no I/O.

/** Credit counter for one direction of one stream. */
export class FlowWindow {
  private inFlight = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly limitBytes: number) {}

  /** True while the sender must wait for acks before sending more. */
  get full(): boolean {
    return this.inFlight >= this.limitBytes;
  }

  // Records bytes sent; returns true when the window is now full.
  sent(bytes: number): boolean {
    this.inFlight += bytes;
    return this.full;
  }

  // Records bytes acknowledged by the receiver and wakes waiters once there is room.
  acked(bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - bytes);
    if (!this.full) this.wake();
  }

  // Resolves when there is room (at once if there is); `release()` also wakes it (on close).
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Wakes every waiter, e.g. because the stream closed and nothing more will be acked. */
  release(): void {
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
