// ensureGoldenOpencode over the real guest agent in this process: a shared copy is used as it
// is, a missing or other-version opencode gets the host's binary layered in, a binary that does
// not run (say, glibc on musl) or a missing host binary is refused with the image named.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ensureGoldenOpencode, type OpencodeGuestPaths } from "../../src/orchestrator/opencode/golden-opencode.js";
import { OPENCODE_VERSION } from "../../src/orchestrator/opencode/opencode-command.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { startInProcessAgent } from "../support/in-process-agent.js";

interface Sandbox extends Disposable {
  dir: string;
  paths: OpencodeGuestPaths;
  /** Writes an executable fake opencode that prints `says` for --version (and its HOME, to check it is a throwaway). */
  fake(path: string, says: string): string;
}

function sandbox(): Sandbox {
  const dir = mkdtempSync("/tmp/ais-golden-opencode-");
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "shared"));
  return {
    dir,
    paths: { shared: join(dir, "shared/opencode"), layered: join(dir, "bin/opencode"), searchPath: `${join(dir, "bin")}:/usr/bin:/bin` },
    fake(path, says) {
      writeFileSync(path, `#!/bin/sh\necho "$HOME" > ${JSON.stringify(join(dir, "home-seen"))}\necho ${JSON.stringify(says)}\n`);
      chmodSync(path, 0o755);
      return path;
    },
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe("ensureGoldenOpencode", () => {
  test("no opencode in the golden: the host's pinned binary is layered in once, byte for byte, executable", async () => {
    using box = sandbox();
    await using agent = startInProcessAgent();
    const host = box.fake(join(box.dir, "host-opencode"), OPENCODE_VERSION);
    const first = await ensureGoldenOpencode(agent.client, { image: "node", hostBinary: host, paths: box.paths });
    assert.equal(first.source, "layered");
    assert.equal(first.binary, box.paths.layered);
    assert.equal(first.layeredBytes, statSync(host).size);
    assert.deepEqual(readFileSync(box.paths.layered), readFileSync(host));
    assert.equal(statSync(box.paths.layered).mode & 0o777, 0o755);
    const home = readFileSync(join(box.dir, "home-seen"), "utf8").trim();
    assert.ok(home.startsWith("/tmp/") && !existsSync(home), `--version ran with a throwaway HOME, removed after (${home})`);

    const again = await ensureGoldenOpencode(agent.client, { image: "node", hostBinary: host, paths: box.paths });
    assert.deepEqual([again.source, again.layeredBytes], ["image", 0], "the second look finds it on PATH and copies nothing");
  });

  test("the runtime's shared copy at the pinned version is used as it is; nothing is copied", async () => {
    using box = sandbox();
    await using agent = startInProcessAgent();
    box.fake(box.paths.shared, OPENCODE_VERSION);
    const found = await ensureGoldenOpencode(agent.client, { image: "python", hostBinary: box.fake(join(box.dir, "host"), OPENCODE_VERSION), paths: box.paths });
    assert.deepEqual([found.source, found.binary, found.layeredBytes], ["shared", box.paths.shared, 0]);
    assert.ok(!existsSync(box.paths.layered));
  });

  test("an image's own opencode of another version is replaced by the pinned one", async () => {
    using box = sandbox();
    await using agent = startInProcessAgent();
    box.fake(box.paths.layered, "0.9.1");
    const host = box.fake(join(box.dir, "host"), OPENCODE_VERSION);
    const found = await ensureGoldenOpencode(agent.client, { image: "imported", hostBinary: host, paths: box.paths });
    assert.equal(found.source, "layered");
    assert.deepEqual(readFileSync(box.paths.layered), readFileSync(host));
  });

  test("a shared copy that cannot run in the image (a musl image, say) is refused with what it said", async () => {
    using box = sandbox();
    await using agent = startInProcessAgent();
    box.fake(box.paths.shared, "Error loading shared library libc.so.6");
    await assert.rejects(
      ensureGoldenOpencode(agent.client, { image: "alpine", paths: box.paths }),
      (err: unknown) => isAgentisoError(err, "INVALID_STATE") && /does not run in image alpine/.test(err.message) && /libc\.so\.6/.test(err.message) && /glibc/.test(err.message),
    );
  });

  test("a layered binary that does not run there either is refused", async () => {
    using box = sandbox();
    await using agent = startInProcessAgent();
    const host = box.fake(join(box.dir, "host"), "exec format error");
    await assert.rejects(ensureGoldenOpencode(agent.client, { image: "arm-rootfs", hostBinary: host, paths: box.paths }), (err: unknown) => isAgentisoError(err, "INVALID_STATE") && /does not run in image arm-rootfs/.test(err.message));
  });

  test("nothing to layer in: refused, naming the image and the missing host binary", async () => {
    using box = sandbox();
    await using agent = startInProcessAgent();
    const missing = join(box.dir, "node_modules/opencode-linux-x64/bin/opencode");
    await assert.rejects(
      ensureGoldenOpencode(agent.client, { image: "node", hostBinary: missing, paths: box.paths }),
      (err: unknown) => isAgentisoError(err, "INVALID_STATE") && /image node has no opencode/.test(err.message) && err.message.includes(`${missing} is missing: run npm ci`),
    );
    await assert.rejects(ensureGoldenOpencode(agent.client, { image: "node", paths: box.paths }), (err: unknown) => isAgentisoError(err, "INVALID_STATE") && /no pinned opencode to layer in/.test(err.message));
  });
});
