// How the key reaches a worker, decided once from the plan: env delivery carries the key, and
// one without it does not type-check (the @ts-expect-error below fails tsc if it ever does).
import { test } from "node:test";
import assert from "node:assert/strict";
import { keyDeliveryFor, type KeyDelivery } from "../../src/orchestrator/key-delivery.js";
import { buildOpencodeConfig } from "../../src/orchestrator/opencode/opencode-config.js";

test("env key mode with the caller's key delivers it under the plan's variable; anything else is keyless", () => {
  assert.deepEqual(keyDeliveryFor({ key_mode: "env", api_key_env: "OPENAI_API_KEY" }, "sk-1"), { mode: "env", envVar: "OPENAI_API_KEY", value: "sk-1" });
  assert.deepEqual(keyDeliveryFor({ key_mode: "proxy", api_key_env: "OPENAI_API_KEY" }, "sk-1"), { mode: "keyless" });
  assert.deepEqual(keyDeliveryFor({ key_mode: "env", api_key_env: "OPENAI_API_KEY" }, undefined), { mode: "keyless" });
  assert.deepEqual(keyDeliveryFor({ key_mode: "env" }, "sk-1"), { mode: "keyless" });
});

test("an env delivery without a key cannot be written", () => {
  // @ts-expect-error: env mode needs the key's value
  const keyless: KeyDelivery = { mode: "env", envVar: "OPENAI_API_KEY" };
  assert.equal(keyless.mode, "env");
});

test("opencode's config takes the delivery itself and names only the variable, never the key", () => {
  const config = buildOpencodeConfig({ provider: { kind: "openai", model: "gpt" }, key: keyDeliveryFor({ key_mode: "env", api_key_env: "OPENAI_API_KEY" }, "sk-secret") });
  assert.match(JSON.stringify(config), /\{env:OPENAI_API_KEY\}/);
  assert.doesNotMatch(JSON.stringify(config), /sk-secret/);
});
