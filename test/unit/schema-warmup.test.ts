// The agent's snapshot warm-up parses real messages: a sample the schemas came to reject would
// warm nothing past its first field, silently (the first hello and exec would pay again).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClientMessageSchema } from "../../src/protocol/index.js";
import { WARM_SAMPLES, warmMessageSchemas } from "../../src/guest-agent/schema-warmup.js";

test("every warm-up sample is a valid client message, and the warm-up runs without throwing", () => {
  for (const sample of WARM_SAMPLES) assert.equal(ClientMessageSchema.safeParse(sample).success, true, JSON.stringify(sample));
  warmMessageSchemas();
});
