// Bytes a workspace produces, taken by the host (issue 11, finding 5), in fast tests: the one
// capped reader, a hostile agent that ignores flow control or sends huge errors, a capped
// download to disk, and logs rotated in place under writers that hold them open.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CappedBytes, clipText, readCapped } from "../../src/core/capped-bytes.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { rotateIfOver } from "../../src/core/log-rotation.js";
import { GuestClient } from "../../src/guest/guest-client.js";
import { createLinkedPair } from "../../src/guest/linked-pair.js";
import { READY_TIMEOUT_MS } from "../../src/guest/pty-session.js";
import { MAX_QUEUED_BYTES } from "../../src/guest/request-stream.js";
import { downloadCapped } from "../../src/operations/capped-download.js";
import { PROTOCOL_VERSION } from "../../src/protocol/index.js";
import { startInProcessAgent } from "../support/in-process-agent.js";
import { RawFrames } from "../support/raw-frames.js";

const tooLarge = (pattern: RegExp) => (err: unknown) => isAgentisoError(err, "TOO_LARGE") && pattern.test(err.message);

// A GuestClient whose agent is the test: it answers hello, then does what the test says.
async function hostileAgent(): Promise<{ client: GuestClient; agent: RawFrames }> {
  const [clientEnd, agentEnd] = createLinkedPair();
  const agent = new RawFrames(agentEnd);
  const client = new GuestClient({ connect: async () => clientEnd });
  const connected = client.connect();
  const hello = await agent.next((m) => m.type === "hello");
  agent.send({ id: hello.id, type: "hello", version: PROTOCOL_VERSION, agent: "hostile", pid: 1, node: "v0" });
  await connected;
  return { client, agent };
}

describe("the capped reader", () => {
  test("keep all holds every byte up to the cap; one more is TOO_LARGE naming what, the cap and the setting", () => {
    const bytes = new CappedBytes({ what: "the patch of task t", maxBytes: 10, setting: "[caps] patchBytes", keep: "all" });
    bytes.push(Buffer.from("hello"));
    bytes.push(Buffer.from("world"));
    assert.equal(bytes.toString(), "helloworld");
    assert.throws(() => bytes.push(Buffer.from("!")), tooLarge(/^the patch of task t is too large: 11 bytes or more, over the cap of 10 bytes \(the cap is \[caps\] patchBytes in config\.toml\)$/));
  });

  test("keep tail holds only the last window however much passes through; keep none holds nothing", () => {
    const tail = new CappedBytes({ what: "stderr", maxBytes: Infinity, keep: "tail", windowBytes: 5 });
    for (let i = 0; i < 10_000; i++) tail.push(Buffer.from(`line ${i}\n`));
    assert.equal(tail.toString(), "9999\n");
    const none = new CappedBytes({ what: "a download", maxBytes: 100, keep: "none" });
    none.push(Buffer.alloc(60));
    assert.equal(none.toBuffer().length, 0);
    assert.equal(none.totalBytes, 60);
  });

  test("readCapped stops reading its source at the cap", async () => {
    let produced = 0;
    async function* endless() {
      for (;;) {
        produced += 1;
        yield Buffer.alloc(1024);
      }
    }
    await assert.rejects(readCapped(endless(), { what: "an endless stream", maxBytes: 10_000 }), tooLarge(/an endless stream/));
    assert.equal(produced, 10);
  });

  test("text a workspace chose is clipped before it is logged or repeated", () => {
    assert.equal(clipText("short"), "short");
    assert.equal(clipText("x".repeat(5000), 10), `${"x".repeat(10)}… (4990 more characters)`);
  });
});

describe("a hostile agent", () => {
  test("data sent without waiting for acks fails the request with TOO_LARGE and the agent is told to cancel", async () => {
    const { client, agent } = await hostileAgent();
    try {
      const stream = client.execStream({ argv: ["yes"] });
      const request = await agent.next((m) => m.type === "exec");
      const chunk = Buffer.alloc(1024 * 1024, "y").toString("base64");
      // nobody reads the stream: an honest agent would stop after STREAM_WINDOW_BYTES
      for (let sent = 0; sent <= MAX_QUEUED_BYTES * 2; sent += 1024 * 1024) agent.send({ id: request.id, type: "data", data: chunk });
      await assert.rejects(stream.result, tooLarge(/the agent's unread messages for exec/));
      await agent.next((m) => m.type === "cancel" && m.id === request.id);
      await assert.rejects(async () => {
        for await (const _ of stream);
      }, tooLarge(/unread messages/));
    } finally {
      await client.close();
    }
  });

  test("a shell's terminal output sent without waiting for acks fails the shell with TOO_LARGE; a shell that never starts times out", async (t) => {
    const { client, agent } = await hostileAgent();
    try {
      const opening = client.openPty({ rows: 24, cols: 80 });
      const request = await agent.next((m) => m.type === "pty_open");
      agent.send({ id: request.id, type: "pty_ready" });
      const pty = await opening;
      const chunk = Buffer.alloc(1024 * 1024, "y").toString("base64");
      for (let sent = 0; sent <= MAX_QUEUED_BYTES * 2; sent += 1024 * 1024) agent.send({ id: request.id, type: "data", data: chunk });
      await assert.rejects(pty.result, tooLarge(/the agent's unread messages for shell/));
      await agent.next((m) => m.type === "cancel" && m.id === request.id);
      t.mock.timers.enable({ apis: ["setTimeout"] });
      const silent = client.openPty({ rows: 24, cols: 80 });
      const unanswered = await agent.next((m) => m.type === "pty_open");
      t.mock.timers.tick(READY_TIMEOUT_MS);
      await assert.rejects(silent, (err) => isAgentisoError(err, "TIMEOUT") && /did not start the shell/.test(err.message));
      await agent.next((m) => m.type === "cancel" && m.id === unanswered.id);
    } finally {
      await client.close();
    }
  });

  test("an error message of megabytes reaches the caller clipped", async () => {
    const { client, agent } = await hostileAgent();
    try {
      const reading = client.readFile("/x");
      const request = await agent.next((m) => m.type === "file_read");
      agent.send({ id: request.id, type: "error", code: "NOT_FOUND", message: "E".repeat(4 * 1024 * 1024) });
      await assert.rejects(reading, (err) => isAgentisoError(err, "NOT_FOUND") && err.message.length < 2200 && /more characters\)$/.test(err.message));
    } finally {
      await client.close();
    }
  });
});

describe("a capped download to disk", () => {
  test("a huge sparse file is refused at once, a link to /dev/zero after the cap; nothing is left on the host", async () => {
    const dir = mkdtempSync(join(tmpdir(), "secc-download-"));
    await using guest = startInProcessAgent();
    try {
      const sparse = join(dir, "sparse");
      writeFileSync(sparse, "");
      truncateSync(sparse, 8 * 1024 ** 4); // 8 TiB of holes (ext4's limit is 16 TiB)
      symlinkSync("/dev/zero", join(dir, "zero"));
      writeFileSync(join(dir, "small"), "small file\n");
      const hostDir = mkdtempSync(join(dir, "host-"));
      await assert.rejects(downloadCapped(guest.client, sparse, join(hostDir, "a"), { maxBytes: 1024 ** 2 }), tooLarge(/the workspace file .*sparse is too large: 8796093022208 bytes or more, over the cap of 1048576 bytes/));
      await assert.rejects(downloadCapped(guest.client, join(dir, "zero"), join(hostDir, "b"), { maxBytes: 1024 ** 2 }), tooLarge(/1048577 bytes or more/));
      assert.deepEqual(readdirSync(hostDir), [], "no partial file stays behind");
      assert.equal(await downloadCapped(guest.client, join(dir, "small"), join(hostDir, "c"), { maxBytes: 1024 ** 2 }), 11);
      assert.equal(readFileSync(join(hostDir, "c"), "utf8"), "small file\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("logs rotate in place", () => {
  test("past maxBytes the last window moves to .1, older copies shift up to keep, and an O_APPEND writer goes on at 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "secc-rotate-"));
    try {
      const log = join(dir, "daemon.log");
      const fd = openSync(log, "a");
      try {
        writeSync(fd, "a".repeat(3000));
        assert.equal(await rotateIfOver(log, { maxBytes: 5000, keep: 2 }), false);
        writeSync(fd, "b".repeat(3000));
        assert.equal(await rotateIfOver(log, { maxBytes: 5000, keep: 2 }), true);
        assert.equal(statSync(log).size, 0);
        assert.equal(readFileSync(`${log}.1`, "utf8"), "a".repeat(2000) + "b".repeat(3000), "the last maxBytes are kept");
        writeSync(fd, "c".repeat(6000));
        assert.equal(statSync(log).size, 6000, "the writer's next bytes land at the start, not after a hole");
        assert.equal(await rotateIfOver(log, { maxBytes: 5000, keep: 2 }), true);
        assert.equal(readFileSync(`${log}.2`, "utf8").slice(0, 1), "a");
        assert.equal(readFileSync(`${log}.1`, "utf8"), "c".repeat(5000));
        writeSync(fd, "d".repeat(6000));
        await rotateIfOver(log, { maxBytes: 5000, keep: 2 });
        assert.deepEqual(readdirSync(dir).sort(), ["daemon.log", "daemon.log.1", "daemon.log.2"], "never more than keep copies");
      } finally {
        closeSync(fd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
