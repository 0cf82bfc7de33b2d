// Host-side guest agent client (docs/protocol.md).
export { GuestClient, type GuestClientOptions } from "./guest-client.js";
export type * from "./client-types.js";
export { createLinkedPair } from "./linked-pair.js";
export { connectUnix } from "./connect-unix.js";
export type { PtyExit, PtySession, PtySpec } from "./pty-session.js";
