// The client's end of a terminal session (`agentiso ws shell`): upgrades a fresh control-socket
// connection (GET /v1/terminal/<operation>), sends the OPEN frame, then carries keystrokes,
// window sizes and end of input one way and the terminal's output the other, writing it to
// `output` with backpressure (the socket pauses while output cannot take more). `started`
// resolves once the command runs; `result` is the call's answer or its error.
import { request } from "node:http";
import type { Socket } from "node:net";
import type { Writable } from "node:stream";
import { AgentisoError } from "../core/errors.js";
import {
  DAEMON_FRAME_LIMITS, decodeJsonObject, encodeChunked, encodeFrame, encodeResize, FRAME, MAX_JSON_FRAME_BYTES, MAX_STDIN_FRAME_BYTES, TERMINAL_PROTOCOL, TerminalFrameDecoder,
  type TerminalFrame,
} from "./terminal-frames.js";

export interface TerminalRequest {
  socketPath: string;
  operation: string;
  input: unknown;
  session?: string;
  /** Where the terminal's output goes (process.stdout for the CLI). */
  output: Writable;
  /** Turns the daemon's error envelope into the error thrown. */
  unwrap: (envelope: Record<string, unknown>) => unknown;
}

export class TerminalClientSession<T = unknown> {
  private readonly decoder = new TerminalFrameDecoder(DAEMON_FRAME_LIMITS, "daemon");
  private settleStarted!: { resolve: () => void; reject: (err: unknown) => void };
  private settleResult!: { resolve: (value: T) => void; reject: (err: unknown) => void };
  private finished = false;
  readonly started: Promise<void>;
  readonly result: Promise<T>;

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    private readonly options: TerminalRequest,
  ) {
    this.started = new Promise((resolve, reject) => (this.settleStarted = { resolve, reject }));
    this.result = new Promise((resolve, reject) => (this.settleResult = { resolve, reject }));
    this.started.catch(() => {});
    this.result.catch(() => {});
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", () => {}); // reported by the close below
    socket.on("close", () => this.fail(new AgentisoError("BACKEND_FAILED", "the daemon closed the terminal without a result (did it stop? see daemon.log)")));
    socket.write(encodeFrame(FRAME.OPEN, JSON.stringify({ input: options.input, ...(options.session !== undefined && { session: options.session }) })));
    if (head.length > 0) this.receive(head);
  }

  /** Keystrokes; false when the socket's buffer is full (wait for its "drain"). */
  write(data: Buffer): boolean {
    let room = true;
    for (const frame of encodeChunked(FRAME.STDIN, data, MAX_STDIN_FRAME_BYTES)) room = this.socket.write(frame);
    return room;
  }

  resize(rows: number, cols: number): void {
    this.socket.write(encodeResize(rows, cols));
  }

  /** No more input: the terminal sees its EOF character. */
  end(): void {
    this.socket.write(encodeFrame(FRAME.STDIN_END));
  }

  /** Gives up on the session (the daemon then cancels the command). */
  close(): void {
    this.socket.destroy();
  }

  /** The socket, for waiting on "drain" after write() said false. */
  get transport(): Socket {
    return this.socket;
  }

  private receive(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) this.handle(frame);
    if (this.decoder.error) this.fail(new AgentisoError("INTERNAL", this.decoder.error.message));
  }

  private handle(frame: TerminalFrame): void {
    if (this.finished) return;
    if (frame.kind === FRAME.STARTED) return this.settleStarted.resolve();
    if (frame.kind === FRAME.OUTPUT) {
      if (!this.options.output.write(frame.payload)) {
        this.socket.pause();
        this.options.output.once("drain", () => this.socket.resume());
      }
      return;
    }
    // RESULT: the daemon's answer ends the session
    this.finished = true;
    try {
      this.settleResult.resolve(this.options.unwrap(decodeJsonObject(frame.payload, "the daemon's RESULT frame")) as T);
    } catch (err) {
      this.settleResult.reject(err);
    }
    this.settleStarted.reject(new AgentisoError("INTERNAL", "the terminal ended before it started"));
    this.socket.end();
  }

  private fail(err: AgentisoError): void {
    if (this.finished) return;
    this.finished = true;
    this.settleStarted.reject(err);
    this.settleResult.reject(err);
    this.socket.destroy();
  }
}

// Upgrades a connection to the daemon and opens the session; a refused upgrade throws the daemon's error.
export function openTerminal<T>(options: TerminalRequest): Promise<TerminalClientSession<T>> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath: options.socketPath,
      method: "GET",
      path: `/v1/terminal/${options.operation}`,
      agent: false,
      headers: { connection: "Upgrade", upgrade: TERMINAL_PROTOCOL },
    });
    req.on("upgrade", (_res, socket: Socket, head: Buffer) => resolve(new TerminalClientSession<T>(socket, head, options)));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_JSON_FRAME_BYTES) chunks.push(chunk);
        else res.destroy(new AgentisoError("INTERNAL", `the daemon's refusal is over ${MAX_JSON_FRAME_BYTES} bytes`));
      });
      res.on("error", reject);
      res.on("end", () => {
        try {
          options.unwrap(decodeJsonObject(Buffer.concat(chunks), "the daemon's answer"));
          reject(new AgentisoError("INTERNAL", `the daemon answered the terminal upgrade with HTTP ${res.statusCode}`));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on("error", reject);
    req.end();
  });
}
