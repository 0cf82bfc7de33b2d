// Every agent operation through the real GuestClient and the real request handler, linked
// in memory (no socket, no bundle): the fast contract of both sides of the protocol.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { describeGuestOperations } from "../support/guest-operations-suite.js";
import { startInProcessAgent, type InProcessAgent } from "../support/in-process-agent.js";

let harness: InProcessAgent;
let dir: string;
const hostnames: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "agentiso-guest-unit-"));
  harness = startInProcessAgent({ setHostname: async (name) => void hostnames.push(name) });
});
after(async () => {
  await harness[Symbol.asyncDispose]();
  await rm(dir, { recursive: true, force: true });
});

describe("guest client over an in-memory pair", () => {
  describeGuestOperations(() => ({ client: harness.client, dir }));

  test("configure sets the hostname through the agent's hook and rejects invalid names", async () => {
    await harness.client.configure({ hostname: "ws-test-1" });
    assert.deepEqual(hostnames, ["ws-test-1"]);
    await assert.rejects(harness.client.configure({ hostname: "bad name" }), (err) => isAgentisoError(err, "INVALID_INPUT"));
  });

  test("a dead transport fails in-flight requests with GUEST_UNREACHABLE and the next call reconnects", async () => {
    const running = harness.client.exec({ argv: ["sleep", "30"] });
    await harness.client.ping();
    harness.agentEnds.at(-1)!.destroy();
    await assert.rejects(running, (err) => isAgentisoError(err, "GUEST_UNREACHABLE"));
    await harness.client.ping();
  });

  test("shutdown answers, then calls the agent's shutdown hook", async () => {
    let called!: () => void;
    const shutdown = new Promise<void>((resolve) => (called = resolve));
    await using other = startInProcessAgent({ onShutdown: () => called() });
    await other.client.shutdown();
    await shutdown;
  });
});
