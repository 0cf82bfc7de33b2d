import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDpkgStatus, prettyName, readManifest, upstreamVersion, writeManifest, type ImageManifest } from "../../src/images/image-manifest.js";

const SAMPLE: ImageManifest = {
  formatVersion: 1,
  name: "base",
  source: { kind: "recipe", recipe: "base", parent: null },
  hash: "ab".repeat(32),
  sizeBytes: 1234,
  createdAt: "2026-01-01T00:00:00.000Z",
  buildMs: 42,
  packages: { bash: "5.2.15-2+b7" },
  nodeVersion: "18.20.4",
  osRelease: "Debian GNU/Linux 12 (bookworm)",
};

describe("image manifest", () => {
  test("a written manifest reads back equal", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agentiso-manifest-test-"));
    try {
      await writeManifest(dir, SAMPLE);
      assert.deepEqual(await readManifest(dir), SAMPLE);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a missing or corrupt manifest reads as no image", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agentiso-manifest-test-"));
    try {
      assert.equal(await readManifest(dir), null);
      await writeFile(join(dir, "manifest.json"), "{ half-written");
      assert.equal(await readManifest(dir), null);
      await writeFile(join(dir, "manifest.json"), JSON.stringify({ ...SAMPLE, sizeBytes: -1 }));
      assert.equal(await readManifest(dir), null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("dpkg status parsing keeps installed packages only", () => {
    const status = [
      "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b7\n",
      "Package: removed-thing\nStatus: deinstall ok config-files\nVersion: 1.0\n",
      "Package: nodejs\nStatus: install ok installed\nArchitecture: amd64\nVersion: 18.20.4+dfsg-1~deb12u1\nDescription: x\n more\n",
    ].join("\n");
    assert.deepEqual(parseDpkgStatus(status), { bash: "5.2.15-2+b7", nodejs: "18.20.4+dfsg-1~deb12u1" });
  });

  test("a Debian version's upstream part drops the epoch and the Debian revision", () => {
    assert.equal(upstreamVersion("18.20.4+dfsg-1~deb12u1"), "18.20.4");
    assert.equal(upstreamVersion("1:2.39.2-1.1"), "2.39.2");
    assert.equal(upstreamVersion("3.11.2"), "3.11.2");
  });

  test("os-release PRETTY_NAME is read with or without quotes", () => {
    assert.equal(prettyName('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'), "Debian GNU/Linux 12 (bookworm)");
    assert.equal(prettyName("PRETTY_NAME=Alpine\n"), "Alpine");
    assert.equal(prettyName("NAME=x\n"), null);
  });
});
