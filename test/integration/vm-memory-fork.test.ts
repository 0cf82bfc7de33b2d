// Forks of a memory snapshot (`ws snapshot --memory`) on real QEMU microVMs under TCG, through
// the CLI and daemon: the forks resume the saved machine — a process started in the source
// and a file on its tmpfs are there — each with its own hostname, random state and the
// host's clock; a restore resumes it too; the file goes with the snapshot. One source VM.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

const skip = requires(isRoot(), hasCommand("qemu-system-x86_64"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("mkfs.ext4"));

interface Ws {
  id: string;
  name: string;
  state: string;
}

// A counter the source runs in the background: in a fork it goes on counting from where it was.
const LOOP = "setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.2; done' </dev/null >/dev/null 2>&1 & echo $! > /tmp/loop.pid";

describe("forks of a VM memory snapshot", { skip, timeout: 900_000 }, () => {
  let cli: CliHarness;
  let source: Ws;
  const token = randomBytes(6).toString("hex");
  const sh = (ws: string, script: string) => cli.ok(["ws", "exec", ws, "--", "sh", "-c", script]);
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const started = performance.now();
    return [await fn(), performance.now() - started];
  };

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness({ AGENTISO_RUNTIME: "vm", AGENTISO_VM_ACCEL: "tcg" });
    source = await cli.json<Ws>(["ws", "create", "--name", "src", "--memory", "256M", "--cpus", "1"]);
    // /tmp on a tmpfs: its files live in the machine's memory only
    await sh("src", `mount -t tmpfs -o mode=1777 tmpfs /tmp && echo ${token} > /tmp/marker; ${LOOP}`);
  });
  after(async () => {
    await cli?.[Symbol.asyncDispose]();
  });

  test("two forks resume the running machine: the process and the tmpfs file are there, each with its own hostname, random bytes and the host's clock", async (t) => {
    const [snap, snapshotMs] = await timed(() => cli.json<{ memoryBytes?: number }>(["ws", "snapshot", "src", "m", "--memory"]));
    assert.ok((snap.memoryBytes ?? 0) > 1024 * 1024, `the snapshot records its memory file's size: ${JSON.stringify(snap)}`);
    assert.equal(await sh("src", "cat /tmp/marker"), `${token}\n`, "the source runs on");
    const [forks, forkMs] = await timed(() => cli.json<Ws[]>(["ws", "fork", "src", "--snapshot", "m", "--count", "2", "--name-prefix", "mf"]));
    assert.deepEqual(forks.map((f) => f.state), ["running", "running"]);
    const firstExecMs: number[] = [];
    for (const fork of forks) {
      const [marker, ms] = await timed(() => sh(fork.name, "cat /tmp/marker"));
      firstExecMs.push(ms);
      assert.equal(marker, `${token}\n`, `${fork.name} has the source's tmpfs file`);
    }
    t.diagnostic(`snapshot --memory ${snapshotMs.toFixed(0)} ms (${snap.memoryBytes} bytes); fork of 2 ${forkMs.toFixed(0)} ms; first exec ${firstExecMs.map((m) => m.toFixed(0)).join(", ")} ms`);
    for (const fork of forks) {
      // the source's loop, same pid, still counting: the fork resumed it rather than booting
      const counted = await sh(fork.name, 'kill -0 "$(cat /tmp/loop.pid)" && a=$(cat /tmp/count) && sleep 1 && b=$(cat /tmp/count) && echo "$a $b"');
      const [a, b] = counted.trim().split(" ").map(Number);
      assert.ok(b! > a!, `${fork.name}: the cloned process runs (${counted.trim()})`);
      assert.equal(await sh(fork.name, "hostname"), `${fork.name}\n`);
      const guestSeconds = Number(await sh(fork.name, "date +%s"));
      assert.ok(Math.abs(guestSeconds - Date.now() / 1000) < 30, `${fork.name}'s clock is ${guestSeconds}, the host's ${Math.round(Date.now() / 1000)}`);
    }
    const random = await Promise.all(forks.map((f) => sh(f.name, "head -c 32 /dev/urandom | od -An -tx1")));
    assert.notEqual(random[0], random[1], "the forks draw different random bytes");
    // the kernel makes boot_id when it is first read (not before the snapshot here): from the fork's reseeded RNG
    const bootIds = await Promise.all(forks.map((f) => sh(f.name, "cat /proc/sys/kernel/random/boot_id")));
    assert.notEqual(bootIds[0], bootIds[1]);
    const sourceSeconds = Number(await sh("src", "date +%s"));
    assert.ok(Math.abs(sourceSeconds - Date.now() / 1000) < 30, "the source's clock, stopped while it was saved, was set again");
  });

  test("the source cannot be destroyed while forks exist (nor its snapshot deleted)", async () => {
    const refused = await cli.run(["ws", "destroy", "src"]);
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /has forks \(mf-1, mf-2\)/);
    assert.equal((await cli.run(["ws", "snapshot-rm", "src", "m"])).code, 5);
    assert.equal(await sh("mf-1", "cat /tmp/marker"), `${token}\n`);
    await cli.ok(["ws", "destroy", "mf-1", "mf-2"]);
  });

  test("restore of a running workspace to its memory snapshot resumes the saved machine; snapshot-rm deletes the memory file", async () => {
    await sh("src", 'kill "$(cat /tmp/loop.pid)"; rm /tmp/marker');
    const restored = await cli.json<Ws>(["ws", "restore", "src", "m"]);
    assert.equal(restored.state, "running");
    assert.equal(await sh("src", "cat /tmp/marker"), `${token}\n`);
    await sh("src", 'kill -0 "$(cat /tmp/loop.pid)"');
    const memoryFile = join(cli.home, "memory", source.id, "m.bin");
    assert.ok(existsSync(memoryFile), `${memoryFile} holds the saved machine`);
    await cli.ok(["ws", "snapshot-rm", "src", "m"]);
    assert.equal(existsSync(memoryFile), false);
    await cli.ok(["ws", "destroy", "src"]);
    assert.equal(existsSync(join(cli.home, "memory", source.id)), false);
  });
});
