// ImageLibrary over small bash recipes that write a few files (no mmdebstrap): cache hits and
// misses, parents, failures, concurrency, ls/rm. Tarball import lives in images-import.test.ts.
import { describe, test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { appendFile, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageLibrary } from "../../src/images/image-library.js";
import { isAgentisoError } from "../../src/core/errors.js";

// Each run of a recipe appends its name to $RUN_LOG, so tests can count builds.
const ROOT_RECIPE = `#!/usr/bin/env bash
set -euo pipefail
echo root >> "$RUN_LOG"
mkdir -p "$ROOTFS/etc" "$ROOTFS/var/lib/dpkg"
echo 'PRETTY_NAME="Fake Linux 1"' > "$ROOTFS/etc/os-release"
printf 'Package: nodejs\\nStatus: install ok installed\\nVersion: 18.20.4+dfsg-1~deb12u1\\n' > "$ROOTFS/var/lib/dpkg/status"
`;
const CHILD_RECIPE = `#!/usr/bin/env bash
# parent: root
set -euo pipefail
echo child >> "$RUN_LOG"
test -f "$ROOTFS/etc/os-release"
echo child > "$ROOTFS/child.txt"
`;
const FAILING_RECIPE = `#!/usr/bin/env bash
set -euo pipefail
echo half > "$ROOTFS/half.txt"
echo "recipe failed on purpose" >&2
exit 3
`;

describe("image library", () => {
  let dir: string;
  let recipesDir: string;
  let cacheDir: string;
  let runLog: string;
  const library = () => new ImageLibrary({ cacheDir, recipesDir, recipeEnv: { RUN_LOG: runLog } });
  const runs = async () => (await readFile(runLog, "utf8").catch(() => "")).split("\n").filter(Boolean);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "agentiso-images-test-"));
    recipesDir = join(dir, "recipes");
    cacheDir = join(dir, "cache");
    runLog = join(dir, "runs.log");
    await mkdir(recipesDir);
    await writeFile(join(recipesDir, "root.sh"), ROOT_RECIPE);
    await writeFile(join(recipesDir, "child.sh"), CHILD_RECIPE);
    await writeFile(join(recipesDir, "failing.sh"), FAILING_RECIPE);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a second build of an unchanged recipe returns the cached image without running it", async () => {
    const first = await library().build("root");
    const second = await library().build("root");
    assert.deepEqual(await runs(), ["root"]);
    assert.deepEqual(second, first);
    assert.equal(first.manifest.osRelease, "Fake Linux 1");
    assert.equal(first.manifest.nodeVersion, "18.20.4");
    assert.ok(first.manifest.sizeBytes > 0);
    assert.equal(await readFile(join(first.rootfsDir, "etc/os-release"), "utf8"), 'PRETTY_NAME="Fake Linux 1"\n');
  });

  test("changing the recipe makes the next build run it again", async () => {
    const first = await library().build("root");
    await appendFile(join(recipesDir, "root.sh"), "echo changed > \"$ROOTFS/changed\"\n");
    const second = await library().build("root");
    assert.deepEqual(await runs(), ["root", "root"]);
    assert.notEqual(second.manifest.hash, first.manifest.hash);
    assert.equal(await readFile(join(second.rootfsDir, "changed"), "utf8"), "changed\n");
  });

  test("force rebuilds even when the cache matches", async () => {
    await library().build("root");
    await library().build("root", { force: true });
    assert.deepEqual(await runs(), ["root", "root"]);
  });

  test("a child recipe starts from a copy of its parent's rootfs and leaves the parent untouched", async () => {
    const child = await library().build("child");
    assert.deepEqual(await runs(), ["root", "child"]);
    assert.equal(child.manifest.source.kind === "recipe" && child.manifest.source.parent, "root");
    assert.equal(await readFile(join(child.rootfsDir, "child.txt"), "utf8"), "child\n");
    const parent = await library().get("root");
    assert.deepEqual((await readdir(parent.rootfsDir)).sort(), ["etc", "var"]);
  });

  test("a failed recipe leaves no image and no work directory behind", async () => {
    await assert.rejects(library().build("failing"), (err) => isAgentisoError(err, "BACKEND_FAILED") && /failed on purpose/.test(err.message));
    await assert.rejects(library().get("failing"), (err) => isAgentisoError(err, "NOT_FOUND"));
    assert.deepEqual(await readdir(join(cacheDir, ".tmp")), []);
    assert.deepEqual(await library().list(), []);
  });

  test("concurrent builds of one image by two libraries run the recipe once", async () => {
    await writeFile(join(recipesDir, "slow.sh"), `#!/usr/bin/env bash\nset -euo pipefail\necho slow >> "$RUN_LOG"\nfor i in $(seq 2000); do echo "$i" > "$ROOTFS/f$((i % 50))"; done\n`);
    const [a, b] = await Promise.all([library().build("slow"), library().build("slow")]);
    assert.deepEqual(await runs(), ["slow"]);
    assert.equal(a.manifest.createdAt, b.manifest.createdAt);
    assert.equal((await readdir(a.rootfsDir)).length, 50);
  });

  test("a recipe that outlives its deadline is TIMEOUT and leaves no process behind", async () => {
    const pidFile = join(dir, "sleeper.pid");
    await writeFile(join(recipesDir, "hang.sh"), `#!/usr/bin/env bash\nset -euo pipefail\nsleep 300 &\necho $! > "${pidFile}"\nwait\n`);
    const lib = new ImageLibrary({ cacheDir, recipesDir, buildTimeoutMs: 1000 });
    await assert.rejects(lib.build("hang"), (err) => isAgentisoError(err, "TIMEOUT"));
    const pid = Number.parseInt(await readFile(pidFile, "utf8"), 10);
    // gone, or a zombie waiting for an init that reaps slowly: either way it no longer runs
    const state = await readFile(`/proc/${pid}/stat`, "utf8").then((text) => text.slice(text.lastIndexOf(")") + 2, text.lastIndexOf(")") + 3), () => "gone");
    assert.ok(state === "gone" || state === "Z", `the recipe's background child was ended with it (state ${state})`);
    assert.deepEqual(await readdir(join(cacheDir, ".tmp")), []);
  });

  test("what a killed build left in the work area is swept by the next build of that image", async () => {
    const leftover = join(cacheDir, ".tmp", "root-0123456789ab");
    const otherImage = join(cacheDir, ".tmp", "root2-0123456789ab");
    await mkdir(join(leftover, "rootfs"), { recursive: true });
    await mkdir(otherImage, { recursive: true });
    await library().build("root");
    assert.deepEqual(await readdir(join(cacheDir, ".tmp")), ["root2-0123456789ab"]);
  });

  test("a recipe sees its own variables and nothing else of the builder's environment", async () => {
    await writeFile(join(recipesDir, "envdump.sh"), `#!/usr/bin/env bash\nset -euo pipefail\nenv > "$ROOTFS/env.txt"\n`);
    process.env.AGENTISO_TEST_SECRET = "do-not-leak";
    try {
      const image = await library().build("envdump");
      const env = await readFile(join(image.rootfsDir, "env.txt"), "utf8");
      assert.doesNotMatch(env, /do-not-leak/);
      assert.match(env, new RegExp(`^RUN_LOG=${runLog}$`, "m"));
      assert.match(env, /^AGENTISO_IMAGE_NAME=envdump$/m);
      assert.match(env, /^PATH=.*\/usr\/bin/m);
    } finally {
      delete process.env.AGENTISO_TEST_SECRET;
    }
  });

  test("ls lists built images by name and rm removes one", async () => {
    await library().build("child");
    assert.deepEqual((await library().list()).map((i) => i.name), ["child", "root"]);
    await library().remove("child");
    assert.deepEqual((await library().list()).map((i) => i.name), ["root"]);
    await assert.rejects(library().get("child"), (err) => isAgentisoError(err, "NOT_FOUND"));
    assert.deepEqual(await readdir(join(cacheDir, ".tmp")), []);
  });

  test("removing an image that does not exist is NOT_FOUND", async () => {
    await assert.rejects(library().remove("ghost"), (err) => isAgentisoError(err, "NOT_FOUND"));
  });

  test("materialize copies an image into a fresh directory", async () => {
    await library().build("root");
    const target = join(dir, "materialized");
    await library().materialize("root", target);
    assert.equal(await readFile(join(target, "etc/os-release"), "utf8"), 'PRETTY_NAME="Fake Linux 1"\n');
  });
});
