// `agentiso serve` forwards calls to the daemon and reconnects (starting it again) when the
// daemon went away between calls, but never resends a call the daemon may have received.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ApiClient } from "../../src/api/api-client.js";
import { AgentisoError } from "../../src/core/errors.js";
import { daemonCaller } from "../../src/mcp/daemon-caller.js";

function refused(): AgentisoError {
  const cause = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
  return new AgentisoError("BACKEND_FAILED", "cannot reach the agentiso daemon", { cause });
}

function fakeClient(answer: () => Promise<unknown>): ApiClient {
  return { call: answer } as unknown as ApiClient;
}

const signal = new AbortController().signal;

describe("daemon caller", () => {
  test("connects lazily, once, on the first call", async () => {
    let connects = 0;
    const call = daemonCaller(async () => (connects++, fakeClient(async () => "ok")));
    assert.equal(connects, 0);
    assert.equal(await call("workspace_list", {}, { signal }), "ok");
    assert.equal(await call("workspace_list", {}, { signal }), "ok");
    assert.equal(connects, 1);
  });

  test("a refused connection starts the daemon again and sends the call once more", async () => {
    let connects = 0;
    const answers = [() => Promise.reject(refused()), () => Promise.resolve("second")];
    const call = daemonCaller(async () => (connects++, fakeClient(() => answers.shift()!())));
    assert.equal(await call("exec", { workspace: "w", command: "true" }, { signal }), "second");
    assert.equal(connects, 2);
  });

  test("an error the daemon answered with is passed through without a retry", async () => {
    let calls = 0;
    const call = daemonCaller(async () => fakeClient(async () => (calls++, Promise.reject(new AgentisoError("NOT_FOUND", "no workspace")))));
    await assert.rejects(call("workspace_info", { workspace: "x" }, { signal }), /no workspace/);
    assert.equal(calls, 1);
  });
});
