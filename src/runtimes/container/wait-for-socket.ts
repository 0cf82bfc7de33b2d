// Readiness of a workspace: its agent's unix socket accepts a connection. Checked by trying
// to connect (a socket file can exist before anyone listens on it), bailing out early when
// the workspace has died instead of waiting for the whole deadline.
import { connect } from "node:net";
import { AgentisoError } from "../../core/errors.js";
import { delay } from "../../core/deadline.js";

const RETRY_MS = 10;

// Resolves once `path` accepts a connection; rejects when isAlive() says false or the signal aborts.
export async function waitForSocket(path: string, isAlive: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  while (true) {
    if (await canConnect(path)) return;
    if (!(await isAlive())) throw new AgentisoError("GUEST_UNREACHABLE", `the workspace exited before its agent listened on ${path}`);
    try {
      await delay(RETRY_MS, signal);
    } catch (err) {
      throw new AgentisoError("TIMEOUT", `the workspace agent did not listen on ${path} in time`, { cause: err });
    }
  }
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
