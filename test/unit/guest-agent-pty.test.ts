// The agent's pty handler over the in-process agent (real `script`, `stty` and bash of this
// machine): window size and resizes, Ctrl-C to the foreground command, EOF, exit codes, a
// cancel that leaves no process, and bad input refused with clear errors.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { isAgentisoError } from "../../src/core/errors.js";
import { delay } from "../../src/core/deadline.js";
import type { PtySession, PtySpec } from "../../src/guest/pty-session.js";
import { startInProcessAgent, type InProcessAgent } from "../support/in-process-agent.js";
import { RawFrames } from "../support/raw-frames.js";
import { hasCommand, requires } from "../support/prereq.js";
import { uniqueSleepSeconds, waitForNoProcess, waitForProcess } from "../support/processes.js";

/** A pty session whose output is collected, with a wait for text to appear in it. */
class Terminal {
  text = "";
  private readonly pumped: Promise<void>;

  constructor(readonly session: PtySession) {
    this.pumped = (async () => {
      for await (const chunk of session.output) this.text += chunk.toString("utf8");
    })();
    this.pumped.catch(() => {});
  }

  type(keys: string): Promise<void> {
    return this.session.write(Buffer.from(keys));
  }

  // Waits until `pattern` shows in the output after `from` (an offset into text); returns where it ended.
  async waitFor(pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.text.slice(from));
      if (match) return from + match.index + match[0].length;
      if (Date.now() > deadline) throw new Error(`no ${pattern} in the terminal's output: ${JSON.stringify(this.text.slice(from))}`);
      await delay(5);
    }
  }
}

const BASH = ["/bin/bash", "--norc", "--noprofile"];
const PROMPT = /pty\$ $/;

describe("guest agent pty_open", { skip: requires(hasCommand("script"), hasCommand("stty"), hasCommand("bash")) }, () => {
  let harness: InProcessAgent;
  before(() => {
    harness = startInProcessAgent();
  });
  after(() => harness[Symbol.asyncDispose]());

  const open = async (spec: Partial<PtySpec> = {}) => new Terminal(await harness.client.openPty({ argv: BASH, env: { PS1: "pty$ " }, rows: 24, cols: 80, ...spec }));

  test("the shell sees its window size and each resize; Ctrl-C stops the foreground command and the shell answers; exit 7 is the result", async () => {
    const term = await open({ rows: 30, cols: 100 });
    let at = await term.waitFor(PROMPT);
    await term.type("stty size\r");
    at = await term.waitFor(/30 100\r\n/, at);
    // the foreground command gets SIGWINCH and sees the new size
    await term.type(`sh -c 'trap "echo winch \\$(stty size); exit" WINCH; echo armed; while sleep 0.05; do :; done'\r`);
    at = await term.waitFor(/armed\r\n/, at);
    term.session.resize(41, 123);
    at = await term.waitFor(/winch 41 123\r\n/, at);
    const marker = uniqueSleepSeconds();
    await term.type(`sleep ${marker}\r`);
    assert.equal((await waitForProcess(marker)).length, 1);
    await term.type("\x03");
    assert.deepEqual(await waitForNoProcess(marker), []);
    await term.type("echo still-$((6*7))\r");
    await term.waitFor(/still-42/, at);
    await term.type("exit 7\r");
    assert.deepEqual(pick(await term.session.result), { exitCode: 7, signal: null });
  });

  test("without a command it runs the login shell, with TERM from the request and SHELL set", async () => {
    const term = await open({ argv: undefined, env: { TERM: "vt100", PS1: "pty$ " } });
    await term.type("echo \"$0|$TERM|$SHELL\"; exit\r");
    await term.waitFor(/\/bin\/bash\|vt100\|\/bin\/bash/);
    assert.equal((await term.session.result).exitCode, 0);
  });

  test("a shell line runs with /bin/sh -c in the working directory; end of input reaches a reading command as EOF", async () => {
    const lined = await open({ argv: undefined, shell: "pwd; echo \"$((1+2))\"", cwd: "/tmp" });
    await lined.waitFor(/\/tmp\r\n3\r\n/);
    assert.equal((await lined.session.result).exitCode, 0);
    const cat = await open({ argv: ["cat"] });
    await cat.type("abc\r");
    await cat.waitFor(/abc\r\nabc\r\n/);
    cat.session.end();
    assert.equal((await cat.session.result).exitCode, 0);
  });

  test("a command killed by a signal exits 128+N, as a shell reports it", async () => {
    const term = await open({ argv: ["/bin/sh", "-c", "kill -9 $$"] });
    assert.equal((await term.session.result).exitCode, 137);
  });

  test("closing the session kills its command and everything it started", async () => {
    const marker = uniqueSleepSeconds();
    const term = await open();
    await term.type(`sleep ${marker} & sleep ${marker}\r`);
    assert.equal((await waitForProcess(marker, 2)).length, 2);
    term.session.close();
    await assert.rejects(term.session.result, (err) => isAgentisoError(err, "CANCELLED"));
    assert.deepEqual(await waitForNoProcess(marker), []);
  });

  test("an image without script or stty is refused with UNSUPPORTED naming what is missing", async () => {
    await assert.rejects(open({ env: { PATH: "/nonexistent" } }), (err) => isAgentisoError(err, "UNSUPPORTED") && /`script` \(util-linux.*`stty`/.test(err.message));
  });

  test("a missing working directory is INVALID_INPUT (EXEC_FAILED) before any pty_ready", async () => {
    await assert.rejects(open({ cwd: "/nonexistent-hsh" }), (err) => isAgentisoError(err, "INVALID_INPUT") && /does not exist/.test(err.message));
  });

  test("bad pty_open and pty_resize messages are refused with INVALID_REQUEST, and the agent keeps serving", async () => {
    const raw = new RawFrames(harness.rawConnection());
    await raw.hello();
    const refused = async (message: Record<string, unknown>) => {
      raw.send(message);
      const reply = await raw.reply(message.id as number);
      assert.deepEqual([reply.type, reply.code], ["error", "INVALID_REQUEST"], JSON.stringify(message));
      return reply.message as string;
    };
    assert.match(await refused({ id: 2, type: "pty_open", rows: 0, cols: 80 }), /rows/);
    assert.match(await refused({ id: 3, type: "pty_open", rows: 24, cols: 5000 }), /cols/);
    await refused({ id: 4, type: "pty_open", cols: 80 });
    await refused({ id: 5, type: "pty_open", rows: 24, cols: 80, tty: true });
    assert.match(await refused({ id: 6, type: "pty_open", rows: 24, cols: 80, argv: ["sh"], shell: "sh" }), /at most one of argv/);
    await refused({ id: 7, type: "pty_resize", rows: 24 });
    await refused({ id: 8, type: "pty_resize", rows: 24, cols: 80.5 });
    raw.send({ id: 9, type: "ping" });
    assert.equal((await raw.reply(9)).type, "pong");
    raw.transport.destroy();
  });
});

function pick(exit: { exitCode: number | null; signal: string | null }): { exitCode: number | null; signal: string | null } {
  return { exitCode: exit.exitCode, signal: exit.signal };
}
