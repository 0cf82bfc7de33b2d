// `agentiso ws shell` as a user at a real terminal sees it: the CLI runs in a tmux session
// (test/support/tmux.ts) against its own daemon, in a container and in a microVM (TCG), one
// workspace of each for the whole file. The shell sees its window size and a resize
// (SIGWINCH included), Ctrl-C stops `sleep` while the shell survives, vi edits a file that
// `ws exec` then reads, and `exit 7` is the CLI's exit code. Pipes, refusals and the owner
// check are covered once, on the container.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { ApiClient } from "../../src/api/api-client.js";
import { delay } from "../../src/core/deadline.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { terminalContracts } from "../../src/contract/registry.js";
import { ensureImage } from "../support/base-image.js";
import { CLI, CliHarness } from "../support/cli-harness.js";
import { hasCommand, hasPath, isRoot, requires } from "../support/prereq.js";
import { uniqueSleepSeconds } from "../support/processes.js";
import { TmuxTerminal } from "../support/tmux.js";

/** A static busybox from the host: the base image has no editor, its `vi` applet stands in. */
const BUSYBOX = "/bin/busybox";
const COMMON = [isRoot(), hasCommand("tmux"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasPath(BUSYBOX, "a static busybox (apt-get install busybox-static)")] as const;
const RUNTIMES = [
  { runtime: "container", skip: requires(...COMMON, hasCommand("runc")) },
  { runtime: "vm", skip: requires(...COMMON, hasCommand("qemu-system-x86_64"), hasCommand("mkfs.ext4")) },
] as const;
/** bash's prompt as the last thing on the screen (screen() trims trailing blanks). */
const PROMPT = /root@\S+:\S*#$/;

describe("agentiso ws shell", { skip: RUNTIMES.every((r) => r.skip) ? RUNTIMES[0].skip : false, timeout: 900_000 }, () => {
  let cli: CliHarness;
  before(async () => {
    await ensureImage("base");
    // one cold-booted VM: a template would cost a second boot for a single workspace
    cli = new CliHarness({ AGENTISO_VM_ACCEL: "tcg", AGENTISO_VM_TEMPLATES: "false" });
  });
  after(() => cli?.[Symbol.asyncDispose]());

  for (const { runtime, skip } of RUNTIMES) {
    describe(`in a ${runtime} workspace`, { skip }, () => {
      const ws = `shell-${runtime}`;
      before(async () => {
        await cli.ok(["ws", "create", "--name", ws, "--runtime", runtime, "--memory", "512M"]);
        await cli.ok(["ws", "cp", BUSYBOX, `${ws}:/usr/local/bin/busybox`]);
        await cli.ok(["ws", "exec", ws, "--", "sh", "-c", "chmod 755 /usr/local/bin/busybox && ln -s /usr/local/bin/busybox /usr/bin/vi"]);
      });

      test("a resize, Ctrl-C, vi and `exit 7` at a real terminal (tmux)", async () => {
        await using term = await TmuxTerminal.start([process.execPath, CLI, "ws", "shell", ws], { env: { AGENTISO_HOME: cli.home, AGENTISO_IMAGE_CACHE: cli.env.AGENTISO_IMAGE_CACHE! }, cols: 100, rows: 30 });
        await term.waitFor(PROMPT);
        await term.line("clear; stty size");
        await term.waitFor(/^30 100$/m);

        // the foreground program gets SIGWINCH and reads the new size; then so does the shell
        await term.line(`clear; sh -c 'trap "echo winch \\$(stty size); exit" WINCH; echo armed; while sleep 0.1; do :; done'`);
        await term.waitFor(/^armed$/m);
        await term.resize(120, 40);
        await term.waitFor(/^winch 40 120$/m);
        await term.line("clear; stty size");
        await term.waitFor(/^40 120$/m);

        const marker = uniqueSleepSeconds();
        await term.line(`clear; sleep ${marker}`);
        await waitUntil(async () => (await cli.run(["ws", "exec", ws, "--", "pgrep", "-f", marker])).code === 0, `sleep ${marker} runs`);
        await term.send("C-c");
        await term.line("echo alive-$((6*7))");
        await term.waitFor(/^alive-42$/m);
        assert.equal((await cli.run(["ws", "exec", ws, "--", "pgrep", "-f", marker])).code, 1, "Ctrl-C ended sleep");

        await term.line("clear; vi /root/notes.txt");
        await term.waitFor(/^~/m); // vi's empty-buffer lines
        // busybox vi's status line starts with its mode (I: insert, -: command); each step waits for
        // it, or keys typed ahead would be read in the wrong mode (Escape and ':' at once read as Alt-:)
        await term.send("i");
        await term.waitFor(/^I \/root\/notes\.txt/m);
        await term.send("hello from vi", { literal: true });
        await term.waitFor(/^hello from vi$/m);
        await term.send("Escape");
        await term.waitFor(/^- \/root\/notes\.txt/m);
        await term.line(":wq");
        await term.waitFor(PROMPT);
        assert.equal(await cli.ok(["ws", "exec", ws, "--", "cat", "/root/notes.txt"]), "hello from vi\n");

        await term.line("exit 7");
        assert.equal(await term.exitCode(), 7);
        assert.ok(term.settingsRestored(), "the terminal left raw mode");
      });

      if (runtime !== "container") return;

      test("killed by SIGTERM, the CLI restores the terminal and dies of it (143); the shell ends with it", async () => {
        await using term = await TmuxTerminal.start([process.execPath, CLI, "ws", "shell", ws], { env: { AGENTISO_HOME: cli.home, AGENTISO_IMAGE_CACHE: cli.env.AGENTISO_IMAGE_CACHE! }, cols: 80, rows: 24 });
        await term.waitFor(PROMPT);
        const marker = uniqueSleepSeconds();
        await term.line(`sleep ${marker}`);
        await waitUntil(async () => (await cli.run(["ws", "exec", ws, "--", "pgrep", "-f", marker])).code === 0, `sleep ${marker} runs`);
        process.kill(await term.commandPid(), "SIGTERM");
        assert.equal(await term.exitCode(), 143);
        assert.ok(term.settingsRestored(), "the terminal left raw mode");
        await waitUntil(async () => (await cli.run(["ws", "exec", ws, "--", "pgrep", "-f", marker])).code === 1, "the session's sleep is gone");
      });

      test("without a TTY, stdin passes through and its end is the terminal's EOF", async () => {
        const piped = await cli.run(["ws", "shell", ws], { input: "echo piped-$((2+3))\nexit 4\n" });
        assert.equal(piped.code, 4, piped.stderr);
        assert.match(piped.stdout, /^piped-5\r$/m);
        const eof = await cli.run(["ws", "shell", ws, "--", "cat"], { input: "last line\n" });
        assert.equal(eof.code, 0, eof.stderr);
        assert.match(eof.stdout, /last line/);
      });

      test("a missing workspace, another session's workspace and a stopped workspace are refused with their exit codes", async () => {
        const missing = await cli.run(["ws", "shell", "no-such-ws"]);
        assert.deepEqual([missing.code, /no workspace "no-such-ws"/.test(missing.stderr)], [3, true], missing.stderr);
        const other = new ApiClient({ socketPath: join(cli.home, "agentiso.sock"), session: "someone-else" });
        await assert.rejects(other.openTerminal(terminalContracts.workspaceShell, { workspace: ws, rows: 24, cols: 80 }, new PassThrough()).then((s) => s.result), (err) => isAgentisoError(err, "NOT_FOUND"));
        await cli.ok(["ws", "stop", ws]);
        const stopped = await cli.run(["ws", "shell", ws]);
        assert.deepEqual([stopped.code, /not running/.test(stopped.stderr)], [4, true], stopped.stderr);
      });
    });
  }
});

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await delay(100);
  }
}
