// What a request handler gets: its id, a signal aborted on cancel or disconnect, a way to
// send non-final messages, stream routing for data/end/ack sent to its id, and the agent's
// services. What it must answer is fixed by the protocol's REQUEST_REPLIES table.
import type { AgentMessage, GuestTrust, ReplyTo, RequestOf, RequestType } from "../protocol/index.js";
import type { AgentLog } from "./agent-log.js";
import type { JobRegistry } from "./job-registry.js";

export interface StreamHandlers {
  onData?(data: Buffer): void;
  onEnd?(): void;
  onAck?(bytes: number): void;
  /** pty_resize: the client's terminal has this many rows and columns now. */
  onResize?(rows: number, cols: number): void;
}

/** What handlers may ask of the agent (GuestAgent implements it; handlers never import GuestAgent). */
export interface AgentServices {
  readonly jobs: JobRegistry;
  envFor(requestEnv?: Record<string, string>): NodeJS.ProcessEnv;
  setEnv(vars: Record<string, string>): void;
  unsetEnv(names: readonly string[]): void;
  setHostname(hostname: string): Promise<void>;
  setClock(epochMs: number): Promise<void>;
  addEntropy(bytes: Buffer): Promise<void>;
  applyTrust(trust: GuestTrust): Promise<void>;
  requestShutdown(): void;
}

export interface RequestContext {
  readonly id: number;
  /** Aborted when the client sends `cancel` for this id or the connection closes. */
  readonly signal: AbortSignal;
  readonly agent: AgentServices;
  readonly log: AgentLog;
  send(message: AgentMessage): void;
  /** Sends bytes as a `data` message on a stream id (this request's or an opened stream's). */
  sendData(streamId: number, bytes: Buffer, fd?: 1 | 2): void;
  /** Routes data/end/ack the client sends with this request's id. */
  onStream(handlers: StreamHandlers): void;
  /** Opens an agent-initiated stream (negative id); `cancel` runs on client cancel or disconnect. */
  openStream(cancel: () => void): { id: number; route(handlers: StreamHandlers): void };
  closeStream(streamId: number): void;
}

/** Request types a handler answers; the connection answers `hello` itself. */
export type HandledType = Exclude<RequestType, "hello">;

/** A handler's result: the reply REQUEST_REPLIES pairs with T; undefined stands for `{type:"done"}` where that is the reply. */
export type HandlerReply<T extends HandledType> = T extends HandledType
  ? ReplyTo<T> | (ReplyTo<T> extends { type: "done" } ? undefined : never)
  : never;

/** Answers one request type. Throw WireError to fail. */
export type Handler<T extends HandledType> = (request: RequestOf<T>, ctx: RequestContext) => Promise<HandlerReply<T>>;
export type HandlerTable = { [T in HandledType]: Handler<T> };
