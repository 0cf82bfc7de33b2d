// What cgroups do not bound per process is bounded by rlimits in the workspace's spec, never
// above the daemon's own hard limits; an IO weight appears only where the host can weigh IO.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { WORKSPACE_RLIMITS, workspaceRlimits } from "../../src/runtimes/container/oci-spec.js";
import { parseHardLimits } from "../../src/runtimes/container/host-limits.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { specWith as spec } from "../support/oci-spec-input.js";

const PROC_LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max core file size        0                    unlimited            bytes
Max processes             96367                96367                processes
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
`;

describe("workspace rlimits", () => {
  test("open files, processes per user (above the pids limit: the cgroup trips first) and core dumps are bounded, soft = hard", () => {
    const rlimits = spec().process.rlimits as Array<{ type: string; soft: number; hard: number }>;
    assert.deepEqual(rlimits, [
      { type: "RLIMIT_NOFILE", soft: 65536, hard: 65536 },
      { type: "RLIMIT_NPROC", soft: 512, hard: 512 },
      { type: "RLIMIT_CORE", soft: 0, hard: 0 },
    ]);
    assert.equal(WORKSPACE_RLIMITS.RLIMIT_CORE, 0);
  });

  test("a limit never exceeds the daemon's own hard limit (raising one needs a host capability)", () => {
    const rlimits = workspaceRlimits(100_000, parseHardLimits(PROC_LIMITS));
    assert.deepEqual(rlimits.find((r) => r.type === "RLIMIT_NOFILE"), { type: "RLIMIT_NOFILE", soft: 20000, hard: 20000 });
    assert.deepEqual(rlimits.find((r) => r.type === "RLIMIT_NPROC"), { type: "RLIMIT_NPROC", soft: 96367, hard: 96367 });
    assert.deepEqual(rlimits.find((r) => r.type === "RLIMIT_CORE"), { type: "RLIMIT_CORE", soft: 0, hard: 0 });
  });

  test("/proc/self/limits is read by column, unlimited as Infinity", () => {
    assert.deepEqual(parseHardLimits(PROC_LIMITS), { RLIMIT_CORE: Infinity, RLIMIT_NPROC: 96367, RLIMIT_NOFILE: 20000 });
    assert.deepEqual(parseHardLimits(""), {});
  });

  test("an IO weight appears only when given (a host whose scheduler weighs IO), and only from 10 to 1000", () => {
    assert.equal(spec().linux.resources.blockIO, undefined);
    assert.deepEqual(spec({ blkioWeight: 50 }).linux.resources.blockIO, { weight: 50 });
    for (const bad of [5, 1001, 1.5]) assert.throws(() => spec({ blkioWeight: bad }), (err: unknown) => isAgentisoError(err, "INVALID_INPUT"));
  });
});
