// `--device`: the agent on a character device as ONE stream, the virtio-serial transport of
// microVMs. A raw-mode pty stands in for the port (test/support/pty-relay.py relays its
// master side to our pipes), so everything is multiplexed over a single stream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Duplex } from "node:stream";
import { GuestClient } from "../../src/guest/guest-client.js";
import { AGENT_BUNDLE } from "../support/agent-process.js";
import { hasCommand, requires } from "../support/prereq.js";

const RELAY = resolve(import.meta.dirname, "../support/pty-relay.py");

function firstLine(child: ChildProcess, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split("\n").find(match);
      if (line) resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${text}`)));
  });
}

test("the agent serves concurrent requests and transfers over one device stream", { skip: requires(hasCommand("python3")) }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "agentiso-device-test-"));
  const relay = spawn("python3", [RELAY], { stdio: ["pipe", "pipe", "pipe"] });
  let agent: ChildProcess | undefined;
  const client = new GuestClient({ connect: async () => Duplex.from({ readable: relay.stdout, writable: relay.stdin }) });
  try {
    const device = await firstLine(relay, (line) => line.startsWith("/dev/"));
    agent = spawn(process.execPath, [AGENT_BUNDLE, "--device", device], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    await firstLine(agent, (line) => line.includes('"agent ready"'));
    assert.equal((await client.connect()).version, 1);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.exec({ argv: ["echo", String(i)] })));
    assert.deepEqual(results.map((r) => r.stdout), Array.from({ length: 50 }, (_, i) => `${i}\n`));
    const data = Buffer.alloc(3 * 1024 * 1024 + 5);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    await client.upload(join(dir, "blob"), data);
    const chunks: Buffer[] = [];
    for await (const chunk of client.download(join(dir, "blob"))) chunks.push(chunk);
    assert.ok(Buffer.concat(chunks).equals(data));
  } finally {
    await client.close();
    agent?.kill("SIGTERM");
    relay.kill("SIGTERM");
    await Promise.all([agent, relay].map((child) => child && child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once("exit", r)) : undefined));
    await rm(dir, { recursive: true, force: true });
  }
});
