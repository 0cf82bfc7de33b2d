// Argument and result types of the GuestClient API.
import type { Duplex } from "node:stream";
import type { ExecResult as WireExecResult } from "../protocol/index.js";

export interface CallOptions {
  signal?: AbortSignal;
  /** Client-side deadline for this call; defaults depend on the operation. */
  timeoutMs?: number;
}

export interface Command {
  /** Program and arguments, run without a shell. Give this or `shell`. */
  argv?: string[];
  /** Command line for /bin/sh -c. */
  shell?: string;
  cwd?: string;
  env?: Record<string, string>;
}

export interface ExecOptions extends Command {
  stdin?: string | Buffer;
  /** The agent kills the process group after this long (timedOut: true in the result). */
  commandTimeoutMs?: number;
  maxOutputBytes?: number;
}

/** Result of a streamed exec: no output fields (the output came as chunks). */
export type ExecStreamResult = Omit<WireExecResult, "id" | "type" | "stdout" | "stderr">;
/** Result of a buffered exec: the captured output as UTF-8 text. */
export type ExecResult = ExecStreamResult & { stdout: string; stderr: string };

export interface OutputChunk {
  fd: 1 | 2;
  data: Buffer;
}

/** Streamed output: iterate the chunks, then await `result`. */
export interface OutputStream<R> extends AsyncIterable<OutputChunk> {
  readonly result: Promise<R>;
}

/** Streamed exec: iterate the output chunks, then await `result`. */
export type ExecStream = OutputStream<ExecStreamResult>;

export interface ReadResult {
  data: Buffer;
  sizeBytes: number;
  eof: boolean;
}

export interface GuestPortForward extends AsyncDisposable {
  /** The guest loopback port actually listened on (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export type ConnectionHandler = (socket: Duplex) => void;
