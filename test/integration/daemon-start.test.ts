// Daemons of many state dirs start and stop at the same time (a user with two state dirs, CI
// running test files in parallel): no start may fail and nothing may leak. A start that does
// fail names the host step and its stderr in the CLI's own error.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness, leftoversOf, type CliRun } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));
const HOMES = 8;
const ROUNDS = 10;

function expectOk(run: CliRun, what: string): void {
  assert.equal(run.code, 0, `${what} exited ${run.code}: ${run.stderr}`);
}

// One round in one state dir: two listers and a creator race to auto-start its daemon, the
// previous round's workspace is destroyed, then the daemon stops (its workspaces keep running)
// — or, every third round, the state dir is torn down (its pool detached, to be attached anew
// by the next round while other state dirs attach and detach theirs).
async function round(cli: CliHarness, index: number): Promise<void> {
  const [first, second, created] = await Promise.all([cli.run(["ws", "ls", "--json"]), cli.run(["ws", "ls", "--json"]), cli.run(["ws", "create", "--name", `r${index}`, "--json"])]);
  expectOk(first, `round ${index}: ws ls`);
  expectOk(second, `round ${index}: ws ls`);
  expectOk(created, `round ${index}: ws create`);
  const listed = JSON.parse(first.stdout) as Array<{ name: string }>;
  for (const old of listed.filter((w) => w.name !== `r${index}`)) expectOk(await cli.run(["ws", "destroy", old.name]), `round ${index}: ws destroy ${old.name}`);
  expectOk(await cli.run(index % 3 === 0 ? ["teardown"] : ["daemon", "stop"]), `round ${index}: stop`);
}

describe("daemon start", { skip, timeout: 1_200_000 }, () => {
  test(`${HOMES} state dirs start and stop their daemons concurrently for ${ROUNDS} rounds while workspaces are created: no start fails, nothing leaks`, async () => {
    await ensureImage("base");
    const clis = Array.from({ length: HOMES }, () => new CliHarness());
    try {
      // Each state dir runs its rounds on its own: starts in one overlap stops in the others.
      await Promise.all(
        clis.map(async (cli) => {
          for (let index = 1; index <= ROUNDS; index++) await round(cli, index);
          const left = await cli.json<Array<{ name: string; state: string }>>(["ws", "ls"]);
          assert.deepEqual(left.filter((w) => w.name !== `r${ROUNDS - 1}`).map((w) => [w.name, w.state]), [[`r${ROUNDS}`, "running"]]);
        }),
      );
    } finally {
      // Teardown of every state dir, then what is left of any of them (each names its leaks).
      const failures = (await Promise.allSettled(clis.map((cli) => cli[Symbol.asyncDispose]()))).filter((r) => r.status === "rejected");
      assert.deepEqual(failures.map((f) => String((f as PromiseRejectedResult).reason)), []);
    }
    for (const cli of clis) assert.deepEqual(leftoversOf(cli.home), []);
  });

  test("a daemon whose pool cannot be mounted fails its start with mount's own error in the CLI's message, and keeps no loop device", async () => {
    await using cli = new CliHarness();
    // Not a btrfs filesystem: the pool file exists, so setup attaches it and mount refuses it.
    const pool = join(cli.home, "pool");
    mkdirSync(pool, { recursive: true });
    const image = join(pool, `${resourceTagFor(cli.home).name("pool")}.btrfs.img`);
    writeFileSync(image, Buffer.alloc(8 << 20));
    try {
      const run = await cli.run(["ws", "ls"]);
      assert.equal(run.code, 8, run.stderr);
      assert.match(run.stderr, /^agentiso: the daemon could not start: `mount -t btrfs [^\n]*wrong fs type/);
      assert.deepEqual(leftoversOf(cli.home), []);
    } finally {
      rmSync(image); // teardown starts a daemon: it gets a fresh pool
    }
  });
});
