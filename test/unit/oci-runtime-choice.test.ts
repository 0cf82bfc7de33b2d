// Which OCI runtime starts containers: crun where it can, runc otherwise, and a clear error when
// the one asked for cannot (a fake probe stands in for the host).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chooseOciRuntime, type OciRuntimeProbe } from "../../src/runtimes/container/oci-runtime-choice.js";

const HYBRID = "crun cannot run on this hybrid cgroup layout: the cgroup2 tree at /sys/fs/cgroup/unified holds controllers (hugetlb)";

function host(installed: { crun?: boolean; runc?: boolean }, refusal?: string): OciRuntimeProbe {
  return {
    version: (name) => Promise.resolve(installed[name] ? `${name} version 1` : undefined),
    crunRefusal: () => Promise.resolve(refusal),
  };
}

describe("choosing the OCI runtime", () => {
  test("auto takes crun when it is installed and the cgroups suit it", async () => {
    const choice = await chooseOciRuntime("auto", host({ crun: true, runc: true }));
    assert.deepEqual([choice.name, choice.version], ["crun", "crun version 1"]);
  });

  test("auto falls back to runc, saying why: crun missing, or refused by the cgroup layout", async () => {
    const missing = await chooseOciRuntime("auto", host({ runc: true }));
    assert.equal(missing.name, "runc");
    assert.match(missing.reason, /crun is not installed \(apt-get install crun\)/);
    const refused = await chooseOciRuntime("auto", host({ crun: true, runc: true }, HYBRID));
    assert.equal(refused.name, "runc");
    assert.match(refused.reason, /hybrid cgroup layout.*hugetlb.*runc starts containers instead/);
  });

  test("a runtime asked for by name is that one, or an error naming what is wrong", async () => {
    assert.equal((await chooseOciRuntime("runc", host({ crun: true, runc: true }))).name, "runc");
    assert.equal((await chooseOciRuntime("crun", host({ crun: true, runc: true }))).name, "crun");
    await assert.rejects(chooseOciRuntime("crun", host({ crun: true, runc: true }, HYBRID)), /hybrid cgroup layout/);
    await assert.rejects(chooseOciRuntime("crun", host({ runc: true })), /crun is not installed/);
    await assert.rejects(chooseOciRuntime("runc", host({ crun: true })), /runc is not installed/);
  });

  test("auto with neither usable names both reasons", async () => {
    await assert.rejects(chooseOciRuntime("auto", host({ crun: true }, HYBRID)), /neither OCI runtime.*hybrid.*runc is not installed/);
    await assert.rejects(chooseOciRuntime("auto", host({})), /neither OCI runtime.*crun is not installed.*runc is not installed/);
  });
});
