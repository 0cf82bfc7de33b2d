// opencode's stdout goes through a file so a slow reader loses nothing at its exit. The writer
// here behaves as opencode (Bun) does at exit: what the pipe does not take at once is dropped.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { outputThroughFile } from "../../src/orchestrator/opencode/output-through-file.js";

// 4 MiB of lines written without blocking (the rest dropped, as at an exit that does not flush), then END.
const DROPPING_WRITER = [
  "perl",
  "-e",
  'use Fcntl; fcntl(STDOUT, F_SETFL, fcntl(STDOUT, F_GETFL, 0) | O_NONBLOCK); my $l = ("y" x 1023) . "\\n"; syswrite(STDOUT, $l) for 1..4096; syswrite(STDOUT, "END\\n")',
];

interface Run {
  stdout: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

// Runs argv with a reader that starts reading only after delayMs.
function runWithSlowReader(argv: string[], delayMs: number, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"], env });
    const chunks: Buffer[] = [];
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), delayMs);
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ stdout: Buffer.concat(chunks).toString(), code, signal }));
  });
}

describe("opencode's output through a file", () => {
  const dir = mkdtempSync(join(tmpdir(), "agentiso-output-"));
  test.after(() => rmSync(dir, { recursive: true, force: true }));

  test("a writer that drops what a slow reader does not take loses it without the file, and nothing through it", async () => {
    const direct = await runWithSlowReader(DROPPING_WRITER, 500);
    assert.ok(direct.stdout.length < 4096 * 1024, "the writer really drops output on a full pipe");
    const through = await runWithSlowReader(outputThroughFile(DROPPING_WRITER, dir), 500);
    assert.equal(through.stdout.length, 4096 * 1024 + 4);
    assert.ok(through.stdout.endsWith("y\nEND\n"));
    assert.equal(through.code, 0);
    assert.deepEqual(readdirSync(dir), [], "the file is removed after the run");
  });

  test("the exit code is the command's, and a command killed by a signal kills the wrapper with it", async () => {
    const exited = await runWithSlowReader(outputThroughFile(["sh", "-c", "echo hi; exit 3"], dir), 0);
    assert.deepEqual(exited, { stdout: "hi\n", code: 3, signal: null });
    const killed = await runWithSlowReader(outputThroughFile(["sh", "-c", "echo bye; kill -9 $$"], dir), 0);
    assert.deepEqual(killed, { stdout: "bye\n", code: null, signal: "SIGKILL" });
    const terminated = await runWithSlowReader(outputThroughFile(["sh", "-c", "echo t; kill -TERM $$"], dir), 0);
    assert.deepEqual(terminated, { stdout: "t\n", code: null, signal: "SIGTERM" });
  });

  test("where tail has no --pid the command runs as it is", async () => {
    const bin = join(dir, "bin");
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin);
    writeFileSync(join(bin, "tail"), "#!/bin/sh\necho 'tail: unrecognized option' >&2\nexit 1\n");
    chmodSync(join(bin, "tail"), 0o755);
    const run = await runWithSlowReader(outputThroughFile(["sh", "-c", "echo plain; exit 4"], join(dir, "out")), 0, { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    assert.deepEqual(run, { stdout: "plain\n", code: 4, signal: null });
    assert.ok(!existsSync(join(dir, "out")));
    rmSync(bin, { recursive: true });
  });
});
