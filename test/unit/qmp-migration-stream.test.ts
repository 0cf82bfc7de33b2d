// The byte side of memory snapshots, against plain unix sockets standing in for QEMU.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { streamFileTo } from "../../src/runtimes/vm/qmp-migration-stream.js";

describe("streaming a memory snapshot into QEMU", () => {
  // QEMU rejecting a corrupt stream closes its end with our bytes unread: the kernel then
  // resets our socket after our copy already finished. That reset must not crash the daemon.
  test("a peer that closes with our bytes unread, after the copy ended, raises nothing", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "ais-stream-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "state.snap");
    await writeFile(file, Buffer.alloc(16 * 1024, 0x5a));
    const socketPath = join(dir, "in.sock");
    const server = createServer({ pauseOnConnect: true });
    server.listen(socketPath);
    await once(server, "listening");
    t.after(() => void server.close());
    const accepted = once(server, "connection") as Promise<[Socket]>;
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.prependListener("uncaughtException", onUncaught);
    t.after(() => void process.off("uncaughtException", onUncaught));

    await streamFileTo(socketPath, file, AbortSignal.timeout(10_000));
    const [peer] = await accepted;
    peer.destroy(); // never read a byte: the kernel resets our side
    await delay(200);
    assert.deepEqual(uncaught, []);
  });
});
