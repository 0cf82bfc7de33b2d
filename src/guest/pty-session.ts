// A terminal in the guest (pty_open) over a GuestLink: resolves once the agent says the
// command runs (pty_ready, within READY_TIMEOUT_MS), then carries input both ways under flow
// control — output is acked as the consumer takes it (so a slow terminal slows the command,
// and what the agent may queue here stays bounded by RequestStream), input waits for the
// agent's acks. The result is the command's exit.
import { AgentisoError } from "../core/errors.js";
import { CHUNK_BYTES, FlowWindow, STREAM_WINDOW_BYTES, type AgentMessage, type PtyResult } from "../protocol/index.js";
import type { CallOptions, Command } from "./client-types.js";
import type { GuestLink } from "./guest-link.js";

/** How long the agent may take to start the command before the shell fails with TIMEOUT. */
export const READY_TIMEOUT_MS = 30_000;

export interface PtySpec extends Command {
  rows: number;
  cols: number;
}

export type PtyExit = Omit<PtyResult, "id" | "type">;

export interface PtySession {
  /** The terminal's output as it comes; ends when the command has exited, throws the session's error. */
  readonly output: AsyncIterable<Buffer>;
  /** Keystrokes (raw bytes); resolves once the agent's window has room for them. */
  write(bytes: Buffer): Promise<void>;
  resize(rows: number, cols: number): void;
  /** No more input: the terminal sees its EOF character. */
  end(): void;
  readonly result: Promise<PtyExit>;
  /** Ends the session now (the agent kills the command). */
  close(): void;
}

// Opens a pty in the guest and resolves once its command runs.
export async function openPty(link: GuestLink, spec: PtySpec, options: CallOptions): Promise<PtySession> {
  const stream = await link.start({ type: "pty_open", ...spec }, "shell", options, null);
  const events = stream.events();
  const window = new FlowWindow(STREAM_WINDOW_BYTES);
  void stream.result.then(() => window.release(), () => window.release());
  const first = await firstEvent(events, () => stream.abort());
  if (first?.type !== "pty_ready") {
    if (first === undefined) await stream.result; // throws the agent's refusal
    stream.abort();
    throw new AgentisoError("INTERNAL", `the agent sent ${first?.type ?? "pty_result"} before pty_ready`);
  }
  async function* output(): AsyncGenerator<Buffer> {
    for (;;) {
      const next = await events.next();
      if (next.done) return;
      if (next.value.type === "ack") window.acked(next.value.bytes);
      else if (next.value.type === "data") yield Buffer.from(next.value.data, "base64");
    }
  }
  const result = stream.result.then(({ exitCode, signal, durationMs }) => ({ exitCode, signal, durationMs }));
  result.catch(() => {}); // a caller that only reads the output sees the failure there
  return {
    output: output(),
    async write(bytes) {
      for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
        await window.room();
        if (stream.isFinished) return;
        const chunk = bytes.subarray(at, at + CHUNK_BYTES);
        stream.sendData(chunk);
        window.sent(chunk.length);
      }
    },
    resize: (rows, cols) => stream.send({ type: "pty_resize", rows, cols }),
    end: () => stream.send({ type: "end" }),
    result,
    close: () => stream.abort(),
  };
}

// The first non-final message, or undefined when the request ended without one; TIMEOUT after READY_TIMEOUT_MS.
async function firstEvent(events: AsyncGenerator<AgentMessage>, abort: () => void): Promise<AgentMessage | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort();
      reject(new AgentisoError("TIMEOUT", `the workspace's agent did not start the shell within ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
  });
  try {
    return (await Promise.race([events.next(), timeout])).value ?? undefined;
  } finally {
    clearTimeout(timer);
  }
}
