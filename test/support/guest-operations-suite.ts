// The operations contract of agent + client, run over the in-memory pair (unit) and
// against the real bundled agent on a unix socket (integration).
import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { delay } from "../../src/core/deadline.js";
import type { GuestClient } from "../../src/guest/guest-client.js";
import { uniqueSleepSeconds, waitForNoProcess, waitForProcess } from "./processes.js";

export interface OperationsTarget {
  client: GuestClient;
  /** A scratch directory the agent can write to. */
  dir: string;
}

// Registers one test per operation (call inside a describe whose before() sets up target).
export function describeGuestOperations(target: () => OperationsTarget): void {
  test("hello reports the protocol version and ping answers", async () => {
    const hello = await target().client.connect();
    assert.equal(hello.version, 1);
    await target().client.ping();
  });

  test("exec returns exit code, stdout and stderr, with argv or a shell string", async () => {
    const argv = await target().client.exec({ argv: ["printf", "%s", "a b"] });
    assert.deepEqual([argv.exitCode, argv.stdout, argv.stderr], [0, "a b", ""]);
    const shell = await target().client.exec({ shell: "echo out; echo err >&2; exit 7" });
    assert.deepEqual([shell.exitCode, shell.stdout, shell.stderr], [7, "out\n", "err\n"]);
  });

  test("exec honours cwd, env and stdin", async () => {
    const result = await target().client.exec({ shell: 'pwd; echo "$GREETING"; cat', cwd: target().dir, env: { GREETING: "hi" }, stdin: "from stdin" });
    assert.equal(result.stdout, `${target().dir}\nhi\nfrom stdin`);
  });

  test("exec sets PWD to its working directory, whatever PWD the agent or the request carried", async () => {
    const result = await target().client.exec({ argv: ["printenv", "PWD"], cwd: target().dir, env: { PWD: "/somewhere-else" } });
    assert.equal(result.stdout, `${target().dir}\n`);
  });

  test("exec output past the limit is cut and flagged truncated", async () => {
    const result = await target().client.exec({ shell: "head -c 5000 /dev/zero", maxOutputBytes: 100 });
    assert.equal(result.stdout.length, 100);
    assert.equal(result.truncated, true);
  });

  test("exec timeout kills the whole process group and reports timedOut", async () => {
    const marker = uniqueSleepSeconds();
    const result = await target().client.exec({ shell: `sleep ${marker} & sleep ${marker}; wait`, commandTimeoutMs: 200 });
    assert.equal(result.timedOut, true);
    assert.equal(result.signal, "SIGKILL");
    assert.deepEqual(await waitForNoProcess(marker), []);
  });

  test("aborting an exec cancels it on the agent and kills its process group", async () => {
    const marker = uniqueSleepSeconds();
    const controller = new AbortController();
    const running = target().client.exec({ shell: `sleep ${marker} & sleep ${marker}; wait` }, { signal: controller.signal });
    await waitForProcess(marker);
    controller.abort();
    await assert.rejects(running, (err) => isAgentisoError(err, "CANCELLED"));
    assert.deepEqual(await waitForNoProcess(marker), []);
  });

  test("a program that does not exist is an EXEC_FAILED error mapped to INVALID_INPUT", async () => {
    await assert.rejects(target().client.exec({ argv: ["/nonexistent/program"] }), (err) => isAgentisoError(err, "INVALID_INPUT"));
  });

  test("streamed exec yields stdout and stderr chunks, then the result", async () => {
    const stream = target().client.execStream({ shell: "echo one; echo two >&2" });
    const seen: string[] = [];
    for await (const chunk of stream) seen.push(`${chunk.fd}:${chunk.data.toString()}`);
    assert.deepEqual(seen.sort(), ["1:one\n", "2:two\n"]);
    assert.equal((await stream.result).exitCode, 0);
  });

  test("a streamed exec of 20 MiB arrives whole through the flow-control window", async () => {
    const stream = target().client.execStream({ shell: "head -c 20971520 /dev/zero" });
    let bytes = 0;
    for await (const chunk of stream) bytes += chunk.data.length;
    assert.equal(bytes, 20 * 1024 * 1024);
    assert.equal((await stream.result).truncated, false);
  });

  test("background jobs start, are listed, polled for output, and killed with a chosen signal", async () => {
    const job = await target().client.startJob({ shell: "echo started; exec sleep 60" });
    assert.equal(job.running, true);
    assert.ok((await target().client.listJobs()).some((j) => j.jobId === job.jobId));
    while ((await target().client.pollJob(job.jobId)).stdout === "") await delay(10);
    const killed = await target().client.killJob(job.jobId, "SIGKILL");
    assert.equal(killed.jobId, job.jobId);
    let polled = await target().client.pollJob(job.jobId);
    while (polled.running) polled = await target().client.pollJob(job.jobId);
    assert.equal(polled.signal, "SIGKILL");
    assert.equal(polled.stdout, "started\n");
    await assert.rejects(target().client.pollJob("job-none"), (err) => isAgentisoError(err, "NOT_FOUND"));
  });

  test("a job keeps only the tail of its output in its ring buffer", async () => {
    const job = await target().client.startJob({ shell: "seq 1 10000", maxOutputBytes: 64 });
    let polled = await target().client.pollJob(job.jobId);
    while (polled.running) polled = await target().client.pollJob(job.jobId);
    assert.equal(polled.truncated, true);
    assert.ok(polled.stdout!.endsWith("9999\n10000\n"));
    assert.ok(polled.stdout!.length <= 64);
  });

  test("files are written, read by offset and limit, binary-safe, with their mode", async () => {
    const path = join(target().dir, "bin.dat");
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13, 0]);
    await target().client.writeFile(path, bytes, { mode: 0o600 });
    assert.deepEqual((await target().client.readFile(path)).data, bytes);
    const part = await target().client.readFile(path, { offset: 1, limit: 3 });
    assert.deepEqual([...part.data], [255, 1, 254]);
    assert.equal(part.eof, false);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await target().client.stat(path)).mode, 0o600);
  });

  test("write can append and create parent directories", async () => {
    const path = join(target().dir, "deep/er/log.txt");
    await target().client.writeFile(path, "a", { createDirs: true });
    await target().client.writeFile(path, "b", { append: true });
    assert.equal(await readFile(path, "utf8"), "ab");
  });

  test("edit replaces text that occurs once and refuses missing or ambiguous text", async () => {
    const path = join(target().dir, "edit.txt");
    await writeFile(path, "alpha beta beta");
    await target().client.editFile(path, "alpha", "gamma");
    assert.equal(await readFile(path, "utf8"), "gamma beta beta");
    await assert.rejects(target().client.editFile(path, "delta", "x"), (err) => isAgentisoError(err, "NOT_FOUND"));
    await assert.rejects(target().client.editFile(path, "beta", "x"), (err) => isAgentisoError(err, "CONFLICT"));
  });

  test("list, stat, mkdir and remove work on directories", async () => {
    const sub = join(target().dir, "tree/a/b");
    await target().client.mkdir(sub);
    await writeFile(join(sub, "f.txt"), "xyz");
    const entries = await target().client.listDir(sub);
    assert.deepEqual(entries.map((e) => [e.name, e.kind, e.sizeBytes]), [["f.txt", "file", 3]]);
    assert.equal((await target().client.stat(join(target().dir, "tree"))).kind, "directory");
    await assert.rejects(target().client.remove(join(target().dir, "tree")), (err) => isAgentisoError(err, "CONFLICT"));
    await target().client.remove(join(target().dir, "tree"), { recursive: true });
    await assert.rejects(target().client.stat(join(target().dir, "tree")), (err) => isAgentisoError(err, "NOT_FOUND"));
  });

  test("move renames files and directories, refuses an existing target unless overwrite, and moves a symlink itself", async () => {
    const dir = join(target().dir, "moves");
    await target().client.mkdir(join(dir, "d"));
    await writeFile(join(dir, "d/f.txt"), "one");
    await writeFile(join(dir, "other.txt"), "two");
    await target().client.move(join(dir, "d"), join(dir, "e"));
    assert.equal(await readFile(join(dir, "e/f.txt"), "utf8"), "one");
    await assert.rejects(target().client.move(join(dir, "other.txt"), join(dir, "e/f.txt")), (err) => isAgentisoError(err, "CONFLICT"));
    await target().client.move(join(dir, "other.txt"), join(dir, "e/f.txt"), { overwrite: true });
    assert.equal(await readFile(join(dir, "e/f.txt"), "utf8"), "two");
    await assert.rejects(target().client.move(join(dir, "missing"), join(dir, "x")), (err) => isAgentisoError(err, "NOT_FOUND"));
    await assert.rejects(target().client.move(join(dir, "e"), join(dir, "e/inside")), (err) => isAgentisoError(err, "INVALID_INPUT"));
    await symlink(join(dir, "e"), join(dir, "link"));
    await target().client.move(join(dir, "link"), join(dir, "link2"));
    assert.equal((await lstat(join(dir, "link2"))).isSymbolicLink(), true);
    assert.equal(await readFile(join(dir, "e/f.txt"), "utf8"), "two", "the link's target stays where it was");
  });

  test("reads bigger than the inline limit are refused with TOO_LARGE", async () => {
    const path = join(target().dir, "big.dat");
    await writeFile(path, Buffer.alloc(9 * 1024 * 1024));
    await assert.rejects(target().client.readFile(path), (err) => isAgentisoError(err, "TOO_LARGE"));
  });

  test("upload and download carry 5 MiB of binary data intact", async () => {
    const path = join(target().dir, "up.dat");
    const data = Buffer.alloc(5 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    assert.equal(await target().client.upload(path, data, { mode: 0o640 }), data.length);
    assert.equal((await stat(path)).mode & 0o777, 0o640);
    const chunks: Buffer[] = [];
    for await (const chunk of target().client.download(path)) chunks.push(chunk);
    assert.ok(Buffer.concat(chunks).equals(data));
    const ranged: Buffer[] = [];
    for await (const chunk of target().client.download(path, { offset: 10, limit: 5 })) ranged.push(chunk);
    assert.ok(Buffer.concat(ranged).equals(data.subarray(10, 15)));
  });

  test("an upload over its size limit fails TOO_LARGE and leaves no file behind", async () => {
    const path = join(target().dir, "limited.dat");
    await assert.rejects(target().client.upload(path, Buffer.alloc(4096), { maxBytes: 100 }), (err) => isAgentisoError(err, "TOO_LARGE"));
    await assert.rejects(stat(path));
    const leftovers = (await target().client.listDir(target().dir)).filter((e) => e.name.startsWith(".agentiso-upload"));
    assert.deepEqual(leftovers, []);
  });

  test("set_env values reach later execs until unset", async () => {
    await target().client.setEnv({ AGENTISO_TEST_KEY: "k1" });
    assert.equal((await target().client.exec({ shell: "echo $AGENTISO_TEST_KEY" })).stdout, "k1\n");
    assert.equal((await target().client.exec({ shell: "echo $AGENTISO_TEST_KEY", env: { AGENTISO_TEST_KEY: "override" } })).stdout, "override\n");
    await target().client.unsetEnv(["AGENTISO_TEST_KEY"]);
    assert.equal((await target().client.exec({ shell: "echo -n $AGENTISO_TEST_KEY" })).stdout, "");
    await assert.rejects(target().client.setEnv({ "BAD=NAME": "x" }), (err) => isAgentisoError(err, "INVALID_INPUT"));
  });

  test("a host → guest tunnel carries bytes both ways to a guest TCP port", async () => {
    await using server = await echoServer();
    const socket = await target().client.openTunnel(server.port);
    socket.end("ping over tunnel");
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), "echo:ping over tunnel");
  });

  test("a tunnel to a closed port fails with NOT_FOUND", async () => {
    const server = await echoServer();
    const port = server.port;
    await server[Symbol.asyncDispose]();
    await assert.rejects(target().client.openTunnel(port), (err) => isAgentisoError(err, "NOT_FOUND"));
  });

  test("a guest port forward hands each guest connection to the host as a Duplex", async () => {
    const forward = await target().client.forwardGuestPort(0, (socket) => {
      socket.on("data", (data: Buffer) => socket.end(`host saw ${data.toString()}`));
    });
    try {
      const reply = await target().client.exec({ argv: [process.execPath, "-e", CLIENT_SCRIPT, String(forward.port)] });
      assert.equal(reply.stdout, "host saw hello from guest");
    } finally {
      await forward.close();
    }
  });

  test("200 concurrent requests over one connection all complete", async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => target().client.exec({ argv: ["echo", String(i)] })));
    assert.deepEqual(results.map((r) => r.stdout), Array.from({ length: 200 }, (_, i) => `${i}\n`));
  });

}

// Guest-side client for the forward test: connects, sends, prints the reply.
const CLIENT_SCRIPT = `const s=require("net").connect(Number(process.argv[1]),"127.0.0.1",()=>s.write("hello from guest"));s.on("data",d=>process.stdout.write(d));`;

async function echoServer(): Promise<{ port: number; server: Server } & AsyncDisposable> {
  const server = createServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => socket.end(`echo:${Buffer.concat(chunks).toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    server,
    port: typeof address === "object" && address ? address.port : 0,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
