// The control API's terminal door: `GET /v1/terminal/<operation>` with `Upgrade:
// agentiso-terminal` switches the connection to terminal frames (terminal-frames.ts). The
// client's OPEN frame carries the input (and session); the call then goes through the one
// invoker like every other — validation, the owner check, admission, metrics — with the
// connection as its TerminalChannel, and ends with a RESULT frame holding the usual envelope.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { AgentisoError, toAgentisoError } from "../core/errors.js";
import type { OperationInvoker } from "../operations/invoke.js";
import { HTTP_STATUS } from "./error-status.js";
import { TerminalConnection } from "./terminal-connection.js";
import { TERMINAL_PROTOCOL } from "./terminal-frames.js";

/** How long a client may take to send its OPEN frame after the upgrade. */
const OPEN_TIMEOUT_MS = 10_000;

// Answers one upgrade request on the control socket; `stopping` aborts when the daemon stops.
export function serveTerminalUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, invoker: OperationInvoker, stopping?: AbortSignal): void {
  const match = /^\/v1\/terminal\/([a-z_]+)$/.exec(new URL(req.url ?? "/", "http://agentiso").pathname);
  if (req.method !== "GET" || !match || req.headers.upgrade?.toLowerCase() !== TERMINAL_PROTOCOL) {
    return refuse(socket, new AgentisoError("NOT_FOUND", `no upgrade route ${req.method} ${req.url} (terminals: GET /v1/terminal/<operation>, Upgrade: ${TERMINAL_PROTOCOL})`));
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${TERMINAL_PROTOCOL}\r\nConnection: Upgrade\r\n\r\n`);
  const connection = new TerminalConnection(socket, head);
  void runTerminal(match[1]!, connection, invoker, stopping);
}

async function runTerminal(name: string, connection: TerminalConnection, invoker: OperationInvoker, stopping?: AbortSignal): Promise<void> {
  const controller = new AbortController();
  void connection.failed.then((err) => controller.abort(err));
  // an aborted call (daemon stopping, OPEN timeout) reads no more input either
  controller.signal.addEventListener("abort", () => connection.fail(toAgentisoError(controller.signal.reason)), { once: true });
  const onStop = () => controller.abort(new AgentisoError("CANCELLED", "the daemon is stopping"));
  stopping?.addEventListener("abort", onStop, { once: true });
  const openTimer = setTimeout(() => controller.abort(new AgentisoError("TIMEOUT", `no OPEN frame within ${OPEN_TIMEOUT_MS / 1000} s`)), OPEN_TIMEOUT_MS);
  try {
    const open = await Promise.race([connection.opened, aborted(controller.signal)]);
    clearTimeout(openTimer);
    const result = await invoker.invoke({ name, input: open.input, signal: controller.signal, terminal: connection, ...(open.session !== undefined && { session: open.session }) });
    connection.finish({ ok: true, result: result ?? null });
  } catch (err) {
    connection.finish({ ok: false, error: toAgentisoError(err).toJSON() });
  } finally {
    clearTimeout(openTimer);
    stopping?.removeEventListener("abort", onStop);
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

// A plain HTTP error answer (the connection was not upgraded).
function refuse(socket: Duplex, error: AgentisoError): void {
  const body = JSON.stringify({ ok: false, error: error.toJSON() });
  socket.end(`HTTP/1.1 ${HTTP_STATUS[error.code]} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
