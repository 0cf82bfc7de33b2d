// The terminal door of the control API over a real server whose workspace_shell is a stand-in
// (an echo terminal): the framing is bounded and refuses bad frames from their header, a call
// goes through the invoker (input validated, errors as envelopes), output and input flow both
// ways, a client that leaves cancels the call, and a terminal operation cannot be called plain.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { ApiClient } from "../../src/api/api-client.js";
import { startApiServer } from "../../src/api/api-server.js";
import {
  CLIENT_FRAME_LIMITS, decodeResize, encodeFrame, encodeResize, FRAME, MAX_STDIN_FRAME_BYTES, TerminalFrameDecoder,
} from "../../src/api/terminal-frames.js";
import { terminalContracts } from "../../src/contract/registry.js";
import { AgentisoError, isAgentisoError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logger.js";
import { OperationInvoker } from "../../src/operations/invoke.js";
import { defineOperation, type OperationServices } from "../../src/operations/operation.js";

const shell = terminalContracts.workspaceShell;
const INPUT = { workspace: "w1", rows: 24, cols: 80 };

describe("terminal frames", () => {
  test("frames split across chunks come out whole; a resize is two big-endian u16", () => {
    const decoder = new TerminalFrameDecoder(CLIENT_FRAME_LIMITS, "client");
    const bytes = Buffer.concat([encodeFrame(FRAME.STDIN, "hello"), encodeResize(50, 132), encodeFrame(FRAME.STDIN_END)]);
    const frames = [...bytes].flatMap((byte) => decoder.push(Buffer.from([byte])));
    assert.deepEqual(frames.map((f) => [f.kind, f.payload.toString("hex")]), [[FRAME.STDIN, Buffer.from("hello").toString("hex")], [FRAME.RESIZE, "00320084"], [FRAME.STDIN_END, ""]]);
    assert.deepEqual(decodeResize(frames[1]!.payload), { rows: 50, cols: 132 });
  });

  test("an unknown kind, a kind of the other side, or a length over its kind's limit is refused from the header alone", () => {
    for (const header of [encodeFrame(0x7f).subarray(0, 5), encodeFrame(FRAME.OUTPUT).subarray(0, 5), Buffer.from([FRAME.STDIN, 0, 1, 0, 1])]) {
      const decoder = new TerminalFrameDecoder(CLIENT_FRAME_LIMITS, "client");
      assert.deepEqual(decoder.push(header), []);
      assert.ok(isAgentisoError(decoder.error, "INVALID_INPUT"), header.toString("hex"));
      assert.deepEqual(decoder.push(encodeFrame(FRAME.STDIN, "x")), [], "nothing is decoded after a bad header");
    }
    assert.equal(MAX_STDIN_FRAME_BYTES, 65536);
  });

  test("a resize outside 1..4096 or of the wrong length is INVALID_INPUT", () => {
    for (const payload of [encodeResize(0, 80), encodeResize(24, 5000), encodeFrame(FRAME.RESIZE, Buffer.from([0, 24]))]) {
      assert.throws(() => decodeResize(payload.subarray(5)), (err) => isAgentisoError(err, "INVALID_INPUT"));
    }
  });
});

describe("the terminal door", () => {
  // An echo terminal: output is the input upper-cased, a resize is reported, end of input ends it with exit 3.
  const seen: { input?: unknown; aborted?: unknown } = {};
  const echo = defineOperation(shell, {
    run: async (ctx, input) => {
      seen.input = input;
      if (input.workspace === "missing") throw new AgentisoError("NOT_FOUND", `no workspace "missing"`);
      ctx.signal.addEventListener("abort", () => (seen.aborted = ctx.signal.reason), { once: true });
      ctx.terminal!.started();
      for await (const event of ctx.terminal!.input) {
        if (event.type === "data") await ctx.terminal!.write(Buffer.from(event.data.toString().toUpperCase()));
        else if (event.type === "resize") await ctx.terminal!.write(Buffer.from(`[${event.rows}x${event.cols}]`));
        else return { exitCode: 3, signal: null };
      }
      throw ctx.signal.reason;
    },
  });

  async function withDaemon(body: (client: ApiClient, socketPath: string) => Promise<void>, stopping?: AbortSignal): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), "ais-terminal-"));
    const socketPath = join(dir, "agentiso.sock");
    const invoker = new OperationInvoker({ operations: [], terminalOperations: [echo], services: {} as OperationServices, logger: silentLogger });
    const server = await startApiServer({ socketPath, invoker, health: () => ({}), ...(stopping && { stopping }) });
    try {
      await body(new ApiClient({ socketPath }), socketPath);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  }

  const collect = () => {
    const output = new PassThrough();
    const text = { value: "" };
    output.on("data", (chunk: Buffer) => (text.value += chunk.toString()));
    return { output, text };
  };

  test("keystrokes, a resize and the end of input flow through the invoker; the result is the operation's", () =>
    withDaemon(async (client) => {
      const { output, text } = collect();
      const session = await client.openTerminal(shell, { ...INPUT, env: { TERM: "vt100" } }, output);
      await session.started;
      session.write(Buffer.from("ls -l\r"));
      session.resize(50, 132);
      session.end();
      assert.deepEqual(await session.result, { exitCode: 3, signal: null });
      assert.equal(text.value, "LS -L\r[50x132]");
      assert.deepEqual(seen.input, { ...INPUT, env: { TERM: "vt100" } });
    }));

  test("a failure before the command runs is the call's error, and it never starts", () =>
    withDaemon(async (client) => {
      const session = await client.openTerminal(shell, { ...INPUT, workspace: "missing" }, collect().output);
      await assert.rejects(session.result, (err) => isAgentisoError(err, "NOT_FOUND") && /no workspace "missing"/.test(err.message));
      await assert.rejects(session.started);
      const invalid = await client.openTerminal(shell, { ...INPUT, rows: 0 }, collect().output);
      await assert.rejects(invalid.result, (err) => isAgentisoError(err, "INVALID_INPUT") && /rows/.test(err.message));
    }));

  test("a client that goes away cancels the call", () =>
    withDaemon(async (client) => {
      seen.aborted = undefined;
      const session = await client.openTerminal(shell, INPUT, collect().output);
      await session.started;
      session.close();
      const deadline = Date.now() + 5000;
      while (seen.aborted === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.ok(isAgentisoError(seen.aborted, "CANCELLED"), String(seen.aborted));
    }));

  test("a bad frame from the client fails the call with INVALID_INPUT in the RESULT frame", () =>
    withDaemon(async (_client, socketPath) => {
      const socket = connect(socketPath);
      const received: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      const closed = new Promise((resolve) => socket.on("close", resolve));
      socket.write("GET /v1/terminal/workspace_shell HTTP/1.1\r\nHost: agentiso\r\nConnection: Upgrade\r\nUpgrade: agentiso-terminal\r\n\r\n");
      socket.write(encodeFrame(FRAME.OPEN, JSON.stringify({ input: INPUT })));
      socket.write(Buffer.from([FRAME.STDIN, 0xff, 0xff, 0xff, 0xff]));
      await closed;
      const all = Buffer.concat(received).toString("latin1");
      assert.match(all, /^HTTP\/1\.1 101 /);
      assert.match(all, /"ok":false,"error":\{"code":"INVALID_INPUT","message":"bad terminal frame from the client: frame kind 0x2 of 4294967295 bytes/);
    }));

  test("a terminal operation called plainly is UNSUPPORTED, an unknown upgrade route NOT_FOUND", () =>
    withDaemon(async (client, socketPath) => {
      await assert.rejects(client.call(shell.name, INPUT), (err) => isAgentisoError(err, "UNSUPPORTED") && /needs a terminal/.test(err.message));
      const other = new ApiClient({ socketPath });
      await assert.rejects(other.openTerminal({ ...shell, name: "exec" }, INPUT, collect().output).then((s) => s.result), (err) => isAgentisoError(err, "NOT_FOUND") && /no terminal operation "exec"/.test(err.message));
      await assert.rejects(other.openTerminal({ ...shell, name: "No-Such" }, INPUT, collect().output), (err) => isAgentisoError(err, "NOT_FOUND") && /no upgrade route/.test(err.message));
    }));

  test("a stopping daemon ends open terminals with CANCELLED", async () => {
    const stopping = new AbortController();
    await withDaemon(async (client) => {
      const session = await client.openTerminal(shell, INPUT, collect().output);
      await session.started;
      stopping.abort();
      await assert.rejects(session.result, (err) => isAgentisoError(err, "CANCELLED") && /the daemon is stopping/.test(err.message));
    }, stopping.signal);
  });
});
