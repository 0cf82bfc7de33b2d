// Every agent operation through the real GuestClient and the real request handler, linked
// in memory (no socket, no bundle): the fast contract of both sides of the protocol.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { createClockSetter, createEntropyWriter, dateOperand } from "../../src/guest-agent/clock-and-entropy.js";
import { MAX_ENTROPY_BYTES } from "../../src/protocol/index.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { describeGuestOperations } from "../support/guest-operations-suite.js";
import { startInProcessAgent, type InProcessAgent } from "../support/in-process-agent.js";
import { GuestAgent } from "../../src/guest-agent/guest-agent.js";
import { GuestClient } from "../../src/guest/guest-client.js";
import { createLinkedPair } from "../../src/guest/linked-pair.js";
import { Duplex } from "node:stream";

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

  test("shutdown's reply reaches the host when the hook closes the agent before a slow write completes", async () => {
    const [clientEnd, agentEnd] = createLinkedPair();
    // A virtio port: the agent's writes finish in the thread pool, well after a setImmediate.
    const slowPort = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        setTimeout(() => agentEnd.write(chunk, callback), 50);
      },
      final(callback) {
        setTimeout(() => agentEnd.end(callback), 50);
      },
      destroy(err, callback) {
        agentEnd.destroy();
        callback(err);
      },
    });
    agentEnd.on("data", (chunk: Buffer) => slowPort.push(chunk));
    agentEnd.on("end", () => slowPort.push(null));
    const agent: GuestAgent = new GuestAgent({ onShutdown: () => void agent.close() });
    agent.serve(slowPort);
    const client = new GuestClient({ connect: async () => clientEnd });
    try {
      await client.shutdown({ timeoutMs: 3_000 });
    } finally {
      await client.close();
    }
  });
});

describe("configure after a memory-snapshot restore: clock and entropy", () => {
  test("configure hands entropy, then the clock, then the hostname to the agent's hooks", async () => {
    const calls: string[] = [];
    await using other = startInProcessAgent({
      addEntropy: async (bytes) => void calls.push(`entropy:${bytes.toString("hex")}`),
      setClock: async (epochMs) => void calls.push(`clock:${epochMs}`),
      setHostname: async (name) => void calls.push(`hostname:${name}`),
    });
    await other.client.configure({ hostname: "ws-restored", clockEpochMs: 1767225600123, entropy: Buffer.from("00ff10", "hex") });
    assert.deepEqual(calls, ["entropy:00ff10", "clock:1767225600123", "hostname:ws-restored"]);
  });

  test("entropy is written to the pool device, appended as given", async () => {
    const pool = join(dir, "pool.bin");
    await using other = startInProcessAgent({ addEntropy: createEntropyWriter(pool) });
    await other.client.configure({ entropy: Buffer.from("abcd", "hex") });
    await other.client.configure({ entropy: Buffer.alloc(MAX_ENTROPY_BYTES, 7) });
    const written = await readFile(pool);
    assert.equal(written.length, 2 + MAX_ENTROPY_BYTES);
    assert.equal(written.subarray(0, 2).toString("hex"), "abcd");
  });

  test("entropy over 4 KiB is INVALID_INPUT and reaches no hook", async () => {
    const calls: number[] = [];
    await using other = startInProcessAgent({ addEntropy: async (bytes) => void calls.push(bytes.length) });
    await assert.rejects(other.client.configure({ entropy: Buffer.alloc(MAX_ENTROPY_BYTES + 1) }), (err) => isAgentisoError(err, "INVALID_INPUT"));
    await assert.rejects(other.client.configure({ entropy: Buffer.alloc(64 * 1024) }), (err) => isAgentisoError(err, "INVALID_INPUT"));
    assert.deepEqual(calls, []);
  });

  test("a clock the agent may not set answers PERMISSION_DENIED and the agent keeps serving", { skip: requires(hasCommand("setpriv")) }, async () => {
    // never the host's clock: as root the real `date` runs as nobody, and the time asked is now
    const date = isRoot()[0] ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "date"] : ["date"];
    await using other = startInProcessAgent({ setClock: createClockSetter(date) });
    await assert.rejects(other.client.configure({ clockEpochMs: Date.now() }), (err) => isAgentisoError(err, "PERMISSION_DENIED") && /CAP_SYS_TIME/.test(err.message));
    await other.client.ping();
  });

  test("a clock hook that throws is an error reply, not a crash", async () => {
    await using other = startInProcessAgent({
      setClock: async () => {
        throw new Error("rtc on fire");
      },
    });
    await assert.rejects(other.client.configure({ clockEpochMs: 1 }), (err) => isAgentisoError(err, "INTERNAL") && /rtc on fire/.test(err.message));
    await other.client.ping();
  });

  test("an agent without clock or entropy support says UNSUPPORTED", async () => {
    await using other = startInProcessAgent();
    await assert.rejects(other.client.configure({ clockEpochMs: 1 }), (err) => isAgentisoError(err, "UNSUPPORTED"));
    await assert.rejects(other.client.configure({ entropy: Buffer.from("x") }), (err) => isAgentisoError(err, "UNSUPPORTED"));
  });

  test("a guest without a `date` command answers UNSUPPORTED for the clock", async () => {
    await using other = startInProcessAgent({ setClock: createClockSetter(["/nonexistent/agentiso-date"]) });
    await assert.rejects(other.client.configure({ clockEpochMs: Date.now() }), (err) => isAgentisoError(err, "UNSUPPORTED"));
  });

  test("the date operand keeps milliseconds, or whole seconds for busybox", () => {
    assert.equal(dateOperand(1767225600007), "@1767225600.007");
    assert.equal(dateOperand(1767225600999, true), "@1767225601");
  });
});

describe("hello on a single-stream transport", () => {
  // AbortSignal.timeout does not keep the event loop alive, and an in-memory pair is no handle
  let keepAlive: NodeJS.Timeout;
  before(() => void (keepAlive = setInterval(() => {}, 1000)));
  after(() => clearInterval(keepAlive));

  test("a hello the agent never saw is retried on a fresh connection within the connect deadline", async () => {
    const agent = new GuestAgent({});
    let attempts = 0;
    const client = new GuestClient({
      connect: async () => {
        attempts += 1;
        const [clientEnd, agentEnd] = createLinkedPair();
        // the first connection's bytes are lost, as when the guest's port was being reopened
        if (attempts > 1) agent.serve(agentEnd);
        return clientEnd;
      },
      connectTimeoutMs: 5_000,
      helloRetryMs: 200,
    });
    try {
      assert.equal((await client.connect()).type, "hello");
      assert.equal(attempts, 2);
    } finally {
      await client.close();
      await agent.close();
    }
  });

  test("without helloRetryMs a lost hello fails once the connect deadline passes", async () => {
    const client = new GuestClient({ connect: async () => createLinkedPair()[0], connectTimeoutMs: 300 });
    try {
      await assert.rejects(client.connect(), (err) => isAgentisoError(err, "GUEST_UNREACHABLE"));
    } finally {
      await client.close();
    }
  });
});
