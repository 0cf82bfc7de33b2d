// The microVM boot chain for real: Debian's cloud kernel + our initramfs boot a workspace disk
// made from the base image under QEMU (TCG always; KVM too where /dev/kvm is usable), /init
// hands over to tini + the guest agent on the virtio-serial port, and the host talks to it.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { waitForExit } from "../../src/core/process-state.js";
import { runCommand } from "../../src/core/run-command.js";
import type { GuestBootFiles } from "../../src/images/vm-boot/index.js";
import { isCompleteElf } from "../../src/images/vm-boot/vmlinux-extract.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { pidsWithMarker } from "../support/processes.js";
import { bootVm, copyBaseDisk, ensureTestBootFiles, kvmBootsHere } from "../support/vm-boot.js";

const QEMU_EXIT_TIMEOUT_MS = 120_000;
const prerequisites = requires(hasCommand("qemu-system-x86_64"), hasCommand("mmdebstrap"), hasCommand("lz4"), isRoot());

describe("microVM boot chain", { skip: prerequisites }, () => {
  let boot: GuestBootFiles;
  let scratch: string;

  before(async () => {
    boot = await ensureTestBootFiles();
    scratch = await mkdtemp("/tmp/ais-boot-test-");
  });

  after(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test("a second build of the boot files is a cache hit with the same files", async () => {
    const before = await stat(boot.initrdPath);
    const again = await ensureTestBootFiles();
    assert.deepEqual(again, boot);
    assert.equal((await stat(again.initrdPath)).mtimeMs, before.mtimeMs);
    assert.match(boot.kernelVersion, /^\d+\.\d+\.\d+-\d+-cloud-amd64$/);
  });

  test("the kernel is a complete ELF vmlinux, and a truncated one is told apart", async () => {
    assert.ok(await isCompleteElf(boot.kernelPath));
    const cut = join(scratch, "vmlinux.cut");
    await runCommand(["sh", "-c", 'head -c 4000000 -- "$0" > "$1"', boot.kernelPath, cut]);
    assert.equal(await isCompleteElf(cut), false);
  });

  test("the initrd is a newc archive holding /init, the console node, busybox, tini, the agent and the virtio modules", async () => {
    const { stdout } = await runCommand(["sh", "-c", 'busybox cpio -t < "$0"', boot.initrdPath]);
    const members = new Set(stdout.split("\n"));
    for (const member of ["init", "dev/console", "bin/busybox", "sbin/switch_root", "agentiso/tini", "agentiso/agent.cjs", "lib/modules/load-order", "lib/modules/virtio_mmio.ko", "lib/modules/virtio_blk.ko", "lib/modules/virtio_console.ko"]) {
      assert.ok(members.has(member), `${member} is missing from the initrd`);
    }
  });

  for (const accel of ["tcg", "kvm"] as const) {
    test(`under ${accel} the guest boots to the agent under init and tini, with the disk as / and no network but lo`, async (t) => {
      if (accel === "kvm" && !(await kvmBootsHere(boot))) return t.skip("unsupported here: /dev/kvm is missing or cannot boot a guest (see kvmBootsHere)");
      const dir = await mkdtemp(join(scratch, `${accel}-`));
      const name = `aisboot-${accel}-${randomBytes(4).toString("hex")}`;
      await copyBaseDisk(join(dir, "disk.raw"));
      const vm = await bootVm({ dir, name, accel, diskPath: join(dir, "disk.raw"), boot });
      try {
        const hello = await vm.client.connect().catch(async (err: unknown) => assert.fail(`no hello: ${String(err)}\n${await vm.consoleLog()}`));
        assert.equal(hello.agent, "agentiso-guest");
        const uname = await vm.client.exec({ argv: ["uname", "-r"] });
        assert.equal(uname.stdout.trim(), boot.kernelVersion);
        const init = await vm.client.exec({ shell: "tr '\\0' ' ' < /proc/1/cmdline" });
        assert.match(init.stdout, /^\/\.agentiso\/busybox sh \/\.agentiso\/init /, "PID 1 is the staged init shell");
        const parent = await vm.client.exec({ shell: `tr '\\0' ' ' < /proc/$(awk '/^PPid:/ { print $2 }' /proc/${hello.pid}/status)/cmdline` });
        assert.match(parent.stdout, /^\/\.agentiso\/tini -s -- \/usr\/bin\/node \/\.agentiso\/agent\.cjs --device \/dev\/vport\d+p\d+ $/, "tini runs the agent");
        const root = await vm.client.exec({ shell: "awk '$2 == \"/\" { print $1, $3, $4 }' /proc/mounts" });
        assert.match(root.stdout.trim(), /^\/dev\/vda ext4 rw(,|$)/);
        const links = await vm.client.exec({ argv: ["ls", "/sys/class/net"] });
        assert.deepEqual(links.stdout.split(/\s+/).filter(Boolean), ["lo"]);
        await vm.client.exec({ argv: ["sync"] });
        await vm.client.shutdown();
        // Hang up as the runtime does: a read blocked on the port returns once the host end is gone.
        await vm.client.close();
        assert.ok(await waitForExit(vm.pid, QEMU_EXIT_TIMEOUT_MS), `QEMU ${vm.pid} still runs after the agent shut down`);
        assert.deepEqual(pidsWithMarker(name), [], "a process carrying the VM's name outlived it");
      } finally {
        await vm.kill();
      }
    });
  }

  test("when the agent dies, init flushes the disk and powers the VM off", async () => {
    const dir = await mkdtemp(join(scratch, "agent-dies-"));
    const disk = join(dir, "disk.raw");
    await copyBaseDisk(disk);
    const vm = await bootVm({ dir, name: `aisboot-dies-${randomBytes(4).toString("hex")}`, accel: "tcg", diskPath: disk, boot });
    try {
      const { pid } = await vm.client.connect();
      const marker = randomBytes(8).toString("hex");
      // No sync here: init must flush it.
      await vm.client.exec({ shell: `echo ${marker} > /root/marker` });
      await vm.client.exec({ argv: ["kill", "-KILL", String(pid)] }).then(
        () => assert.fail("the agent answered after being killed"),
        (err: unknown) => assert.ok(isAgentisoError(err, "GUEST_UNREACHABLE"), String(err)),
      );
      assert.ok(await waitForExit(vm.pid, QEMU_EXIT_TIMEOUT_MS), "QEMU kept running after the agent died");
      assert.match(await vm.consoleLog(), /agentiso-init: the agent exited/);
      // The guest powered off without unmounting: replay the journal, then read the file.
      const fsck = await runCommand(["e2fsck", "-fy", disk], { check: false });
      assert.ok(fsck.exitCode <= 1, `e2fsck found errors it could not fix: ${fsck.stdout}`);
      const { stdout } = await runCommand(["debugfs", "-R", "cat /root/marker", disk]);
      assert.equal(stdout.trim(), marker);
    } finally {
      await vm.kill();
    }
  });

  test("a disk without node makes /init say why on the console and power the VM off", async () => {
    const dir = await mkdtemp(join(scratch, "no-node-"));
    const disk = join(dir, "empty.raw");
    await runCommand(["truncate", "-s", "64M", disk]);
    await runCommand(["mkfs.ext4", "-q", "-F", disk]);
    const vm = await bootVm({ dir, name: `aisboot-fail-${randomBytes(4).toString("hex")}`, accel: "tcg", diskPath: disk, boot });
    try {
      assert.ok(await waitForExit(vm.pid, QEMU_EXIT_TIMEOUT_MS), "QEMU did not exit after /init failed");
      assert.match(await vm.consoleLog(), /agentiso-init: node not found at \/usr\/bin\/node/);
    } finally {
      await vm.kill();
    }
  });
});
