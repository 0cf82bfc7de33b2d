// What a request handler gets: its id, a signal aborted on cancel or disconnect, a way to
// send non-final messages, and stream routing for data/end/ack sent to its id.
import type { AgentMessage, RequestOf, RequestType } from "../protocol/index.js";
import type { AgentLog } from "./agent-log.js";
import type { GuestAgent } from "./guest-agent.js";

export interface StreamHandlers {
  onData?(data: Buffer): void;
  onEnd?(): void;
  onAck?(bytes: number): void;
}

export interface RequestContext {
  readonly id: number;
  /** Aborted when the client sends `cancel` for this id or the connection closes. */
  readonly signal: AbortSignal;
  readonly agent: GuestAgent;
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

/** Returns the final reply; undefined means `{type:"done"}`. Throw WireError to fail. */
export type Handler<T extends RequestType> = (request: RequestOf<T>, ctx: RequestContext) => Promise<AgentMessage | undefined>;
export type HandlerTable = { [T in Exclude<RequestType, "hello">]: Handler<T> };
