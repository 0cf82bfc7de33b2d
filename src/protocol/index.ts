// The host ⇄ guest contract (docs/protocol.md). Pure: schemas, framing, constants.
export * from "./frame.js";
export * from "./error-codes.js";
export * from "./version.js";
export * from "./common-schemas.js";
export * from "./client-messages.js";
export * from "./agent-messages.js";
export * from "./flow-window.js";
export * from "./request-replies.js";
