import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { buildSeccompProfile, DENIED_SYSCALLS, NAMESPACE_FLAGS } from "../../src/runtimes/container/seccomp-profile.js";
import { isAgentisoError } from "../../src/core/errors.js";

describe("workspace seccomp profile", () => {
  const profile = buildSeccompProfile("x64");
  const deniedWithEperm = new Set(profile.syscalls.filter((r) => !r.args && r.errnoRet === 1).flatMap((r) => r.names));

  test("mount, kexec, bpf, keyrings, module loading, ptrace and open_by_handle_at are denied with EPERM", () => {
    for (const name of ["mount", "umount2", "pivot_root", "kexec_load", "bpf", "keyctl", "add_key", "request_key", "init_module", "finit_module", "ptrace", "open_by_handle_at", "setns", "fsopen", "move_mount", "userfaultfd", "perf_event_open", "io_uring_setup"]) {
      assert.ok(deniedWithEperm.has(name), name);
    }
    assert.deepEqual([...deniedWithEperm].sort(), [...DENIED_SYSCALLS].sort());
  });

  test("clone and unshare are denied for every new-namespace flag, each checked on its own", () => {
    for (const syscall of ["clone", "unshare"]) {
      const masks = profile.syscalls
        .filter((r) => r.names.includes(syscall) && r.args)
        .map((r) => {
          const [arg] = r.args!;
          assert.equal(arg!.index, 0);
          assert.equal(arg!.op, "SCMP_CMP_MASKED_EQ");
          assert.equal(arg!.value, arg!.valueTwo);
          return arg!.value;
        });
      assert.deepEqual(masks.sort(), Object.values(NAMESPACE_FLAGS).sort());
    }
  });

  test("clone3 fails with ENOSYS so libc falls back to the inspectable clone", () => {
    const rule = profile.syscalls.find((r) => r.names.includes("clone3"));
    assert.equal(rule?.errnoRet, 38);
  });

  test("the 32-bit and x32 ABIs of an x86-64 host are filtered too", () => {
    assert.deepEqual(profile.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    assert.equal(profile.defaultAction, "SCMP_ACT_ALLOW");
  });

  test("an unknown CPU is refused with UNSUPPORTED rather than left unfiltered", () => {
    assert.throws(() => buildSeccompProfile("mips"), (err: unknown) => isAgentisoError(err, "UNSUPPORTED"));
  });
});
