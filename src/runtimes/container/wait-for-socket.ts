// Readiness of a workspace: its agent's unix socket accepts a connection. Checked by trying
// to connect (a socket file can exist before anyone listens on it), bailing out early when
// the workspace has died instead of waiting for the whole deadline. The socket's directory is
// watched (inotify): the agent's bind and its chmod after listen wake the check at once, so
// readiness costs no polling latency; a slow tick remains in case an event is missed.
import { watch, type FSWatcher } from "node:fs";
import { dirname } from "node:path";
import { AgentisoError } from "../../core/errors.js";
import { socketAccepts } from "../../core/socket-accepts.js";

/** Fallback tick: how often the socket and the workspace are checked without any event. */
const TICK_MS = 25;

// Resolves once `path` accepts a connection; rejects when isAlive() says false or the signal aborts.
export async function waitForSocket(path: string, isAlive: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  const wake = new Wakeup();
  const watcher = watchDir(dirname(path), () => wake.fire());
  try {
    while (true) {
      if (await socketAccepts(path)) return;
      if (!(await isAlive())) throw new AgentisoError("GUEST_UNREACHABLE", `the workspace exited before its agent listened on ${path}`);
      try {
        await wake.next(TICK_MS, signal);
      } catch (err) {
        throw new AgentisoError("TIMEOUT", `the workspace agent did not listen on ${path} in time`, { cause: err });
      }
    }
  } finally {
    watcher?.close();
  }
}

// A watcher that calls onEvent for any change in dir; undefined where watching is not possible.
function watchDir(dir: string, onEvent: () => void): FSWatcher | undefined {
  try {
    const watcher = watch(dir, { persistent: false }, onEvent);
    watcher.on("error", () => watcher.close());
    return watcher;
  } catch {
    return undefined;
  }
}

/** Resolves the pending wait on fire(), or after the tick; remembers a fire that came between waits. */
class Wakeup {
  private fired = false;
  private resolve: (() => void) | undefined;

  fire(): void {
    if (this.resolve) this.resolve();
    else this.fired = true;
  }

  next(tickMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.fired) {
      this.fired = false;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.resolve = undefined;
      };
      const timer = setTimeout(() => (done(), resolve()), tickMs);
      const onAbort = () => (done(), reject(signal.reason));
      signal.addEventListener("abort", onAbort, { once: true });
      this.resolve = () => (done(), resolve());
    });
  }
}
