// Taking over the agent from inside a container workspace (issue 11, finding 6), through the
// CLI and commands in the workspace: SIGUSR1 opens no inspector, and a preload library (or a
// bogus one) planted in the workspace's /etc/ld.so.preload never loads into the host's node
// the agent runs on — not after a restart, not in a fork.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("gcc"));

// The agent's pid inside the workspace: the process whose command line names agent.cjs.
const AGENT_PID = `for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q 'agent.cjs --listen' && echo \${p#/proc/} && break; done`;
// Lines of /proc/net/tcp{,6} for a socket listening (state 0A) on port 9229 (hex 240D).
const listensOn9229 = (table: string) => table.split("\n").filter((line) => /^\s*\d+: [0-9A-F]+:240D [0-9A-F]+:[0-9A-F]+ 0A /.test(line));

// Every process that loads it appends the program it runs (/proc/self/exe) to /preload-marker.
const MARKER_SOURCE = `#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void) {
  char exe[512]; ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0) return;
  exe[n++] = '\\n';
  int fd = open("/preload-marker", O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) { write(fd, exe, n); close(fd); }
}
`;

describe("the agent cannot be taken over from inside its workspace", { skip, timeout: 900_000 }, () => {
  let cli: CliHarness;
  const scratch = mkdtempSync("/tmp/secc-takeover-");

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness();
    await cli.ok(["init", "--pool-size", "8G"]);
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await cli?.[Symbol.asyncDispose]();
  });

  const sh = async (ws: string, script: string) => (await cli.ok(["ws", "exec", ws, "--", "sh", "-c", script])).trim();

  test("kill -USR1 of the agent opens no inspector port, and the agent still answers", async () => {
    await cli.ok(["ws", "create", "--name", "secc-usr1", "--memory", "256M"]);
    try {
      const pid = await sh("secc-usr1", AGENT_PID);
      assert.match(pid, /^\d+$/, "found the agent's pid");
      await sh("secc-usr1", `kill -USR1 ${pid} && kill -USR1 ${pid}`);
      // the inspector, when SIGUSR1 opens it, listens within milliseconds: give it a second
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const tables = await sh("secc-usr1", "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; true");
      assert.deepEqual(listensOn9229(tables), [], "nothing listens on port 9229 in the workspace");
      const connect = await cli.run(["ws", "exec", "secc-usr1", "--", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9229"]);
      assert.notEqual(connect.code, 0, "connecting to the inspector's port is refused");
      assert.equal(await sh("secc-usr1", "echo still-here"), "still-here");
      assert.equal(await sh("secc-usr1", AGENT_PID), pid, "the same agent answers");
    } finally {
      await cli.run(["ws", "destroy", "secc-usr1"]);
    }
  });

  test("a library planted in /etc/ld.so.preload is not loaded into the agent after a restart or in a fork", async () => {
    const source = join(scratch, "marker.c");
    writeFileSync(source, MARKER_SOURCE);
    const library = join(scratch, "marker.so");
    await runCommand(["gcc", "-shared", "-fPIC", "-o", library, source]);
    await cli.ok(["ws", "create", "--name", "secc-pre", "--memory", "256M"]);
    try {
      await cli.ok(["ws", "cp", library, "secc-pre:/usr/local/lib/marker.so"]);
      await sh("secc-pre", "echo /usr/local/lib/marker.so > /etc/ld.so.preload && true && rm -f /preload-marker");
      // the planted library works for the workspace's own programs before the restart
      await sh("secc-pre", "true");
      assert.match(await sh("secc-pre", "cat /preload-marker"), /\n?\/usr\/bin\/(dash|true)/);
      await sh("secc-pre", "rm -f /preload-marker");

      await cli.ok(["ws", "stop", "secc-pre"]);
      await cli.ok(["ws", "start", "secc-pre"]);
      assert.equal(await sh("secc-pre", "echo answered"), "answered", "the agent started");
      const restarted = await sh("secc-pre", "cat /preload-marker 2>/dev/null; true");
      assert.doesNotMatch(restarted, /\.agentiso/, `the host's node loaded the workspace's preload: ${restarted}`);

      await cli.ok(["ws", "snapshot", "secc-pre", "planted"]);
      await cli.ok(["ws", "fork", "secc-pre", "--snapshot", "planted", "--name", "secc-pre-fork"]);
      assert.equal(await sh("secc-pre-fork", "echo answered"), "answered", "the fork's agent started");
      const forked = await sh("secc-pre-fork", "cat /preload-marker 2>/dev/null; true");
      assert.doesNotMatch(forked, /\.agentiso/, `the fork's agent loaded the workspace's preload: ${forked}`);

      // a bogus entry would make ld.so complain on the agent's stderr (the workspace's console log)
      await sh("secc-pre", "echo /no/such/preload.so > /etc/ld.so.preload");
      await cli.ok(["ws", "stop", "secc-pre"]);
      await cli.ok(["ws", "start", "secc-pre"]);
      assert.equal(await sh("secc-pre", "echo answered"), "answered");
      assert.doesNotMatch(await cli.ok(["ws", "logs", "secc-pre"]), /ld\.so\.preload/);
    } finally {
      await cli.run(["ws", "destroy", "secc-pre-fork"]);
      await cli.run(["ws", "destroy", "secc-pre"]);
    }
  });
});
