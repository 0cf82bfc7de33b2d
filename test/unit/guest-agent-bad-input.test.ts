// Bad input over the in-memory pair: clear errors or a clean close, no crash, no leaked process.
import { describe, after } from "node:test";
import { startInProcessAgent } from "../support/in-process-agent.js";
import { describeBadInput } from "../support/bad-input-suite.js";

describe("guest agent (in-process) under bad input", () => {
  const harness = startInProcessAgent();
  after(() => harness[Symbol.asyncDispose]());
  describeBadInput(() => ({ open: async () => harness.rawConnection() }));
});
