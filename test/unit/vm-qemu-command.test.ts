// The microVM command line is a pure function of its launch spec: these are the flags the
// boot chain depends on (TCG timer fixes, a network device only when asked, MMIO devices, QEMU option escaping).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isAgentisoError } from "../../src/core/errors.js";
import { buildQemuArgv, escapeOption, GUEST_NET, kernelCommandLine, type QemuLaunchSpec } from "../../src/runtimes/vm/qemu-command.js";
import { tscKhzFromCpuinfo, tscKhzFromKernelLog } from "../../src/runtimes/vm/host-tsc.js";

function spec(overrides: Partial<QemuLaunchSpec> = {}): QemuLaunchSpec {
  return {
    name: "aisboot-ws-one",
    accel: "tcg",
    memoryMiB: 512,
    cpus: 2,
    kernelPath: "/cache/vm-boot/h/vmlinux",
    initrdPath: "/cache/vm-boot/h/initrd.img",
    disk: { path: "/pool/ws/disk.qcow2", format: "qcow2" },
    agentSocketPath: "/run/ws/agent.sock",
    qmpSocketPath: "/run/ws/qmp.sock",
    consoleLogPath: "/run/ws/console.log",
    pidFilePath: "/run/ws/qemu.pid",
    tscKhz: 2_596_134,
    ...overrides,
  };
}

/** The value following each occurrence of flag. */
function values(argv: string[], flag: string): string[] {
  return argv.flatMap((arg, i) => (arg === flag ? [argv[i + 1]!] : []));
}

function refused(make: () => unknown): boolean {
  try {
    make();
    return false;
  } catch (err) {
    return isAgentisoError(err, "INVALID_INPUT");
  }
}

describe("buildQemuArgv", () => {
  test("a TCG guest gets microvm with pit and pic, and the host TSC rate on its command line", () => {
    const argv = buildQemuArgv(spec());
    const machine = values(argv, "-M")[0]!;
    assert.match(machine, /^microvm,/);
    assert.match(machine, /pit=on/);
    assert.match(machine, /pic=on/);
    assert.match(machine, /acpi=on/);
    assert.match(values(argv, "-accel")[0]!, /^tcg(,|$)/);
    assert.match(values(argv, "-append")[0]!, /(^| )tsc_early_khz=2596134( |$)/);
  });

  test("a KVM guest uses the host CPU (minus the MSR nested AMD hosts refuse) and no TSC argument", () => {
    const argv = buildQemuArgv(spec({ accel: "kvm", tscKhz: undefined }));
    assert.deepEqual(values(argv, "-accel"), ["kvm"]);
    assert.deepEqual(values(argv, "-cpu"), ["host,-arch-capabilities"]);
    assert.doesNotMatch(values(argv, "-append")[0]!, /tsc_early_khz/);
    assert.doesNotMatch(values(argv, "-M")[0]!, /pit=on/);
  });

  test("a TCG guest without a TSC rate is refused rather than left to hang", () => {
    assert.ok(refused(() => buildQemuArgv(spec({ tscKhz: undefined }))));
  });

  test("a guest gets no network device unless asked for one", () => {
    for (const accel of ["tcg", "kvm"] as const) {
      const argv = buildQemuArgv(spec({ accel, vsockCid: 42, vmgenid: "6f1c2a4e-1b2c-4d5e-8f90-0123456789ab" }));
      assert.ok(argv.includes("-nodefaults"));
      assert.deepEqual(values(argv, "-nic"), ["none"]);
      assert.equal(values(argv, "-netdev").length, 0);
      for (const device of values(argv, "-device")) assert.doesNotMatch(device, /net|e1000|rtl8139/);
      assert.doesNotMatch(values(argv, "-append")[0]!, /agentiso\.(ip|gw|dns)=/);
    }
  });

  test("asked for a network: one virtio-net device on QEMU's user-mode NAT, configured by /init, resolver as given", () => {
    const argv = buildQemuArgv(spec({ network: { resolver: "10.0.2.3" } }));
    assert.deepEqual(values(argv, "-netdev"), [`user,id=net0,net=${GUEST_NET.cidr},host=${GUEST_NET.gateway},dns=${GUEST_NET.qemuDns},ipv6=off`]);
    assert.deepEqual(values(argv, "-device").filter((d) => /net/.test(d)), ["virtio-net-device,netdev=net0"]);
    // no forwards into the guest, no tftp/smb services of QEMU's
    assert.doesNotMatch(values(argv, "-netdev")[0]!, /hostfwd|guestfwd|tftp|smb|restrict/);
    const append = values(argv, "-append")[0]!.split(" ");
    for (const word of [`agentiso.ip=${GUEST_NET.address}/24`, `agentiso.gw=${GUEST_NET.gateway}`, "agentiso.dns=10.0.2.3"]) assert.ok(append.includes(word), word);
    // the guest's resolver lies outside QEMU's own network, so QEMU's built-in DNS forwarder never answers it
    assert.ok(!"10.0.2.3".startsWith(GUEST_NET.cidr.split(".").slice(0, 3).join(".")));
    assert.ok(refused(() => buildQemuArgv(spec({ network: { resolver: "10.0.2.3 evil=1" } }))));
  });

  test("every device is a virtio-mmio device: microvm has no PCI bus", () => {
    const devices = values(buildQemuArgv(spec({ vsockCid: 7, network: { resolver: "10.0.2.3" } })), "-device").map((d) => d.split(",")[0]);
    assert.deepEqual(devices, ["virtio-blk-device", "virtio-serial-device", "virtserialport", "virtio-rng-device", "virtio-net-device", "vhost-vsock-device"]);
  });

  test("incoming, vmgenid and vsock appear only when asked for", () => {
    const plain = buildQemuArgv(spec());
    assert.ok(!plain.includes("-incoming"));
    assert.ok(!plain.some((arg) => arg.startsWith("vmgenid") || arg.startsWith("vhost-vsock")));
    const full = buildQemuArgv(spec({ incoming: "defer", vmgenid: "6f1c2a4e-1b2c-4d5e-8f90-0123456789ab", vsockCid: 1234 }));
    assert.deepEqual(values(full, "-incoming"), ["defer"]);
    assert.ok(full.includes("vmgenid,guid=6f1c2a4e-1b2c-4d5e-8f90-0123456789ab"));
    assert.ok(full.includes("vhost-vsock-device,guest-cid=1234"));
  });

  test("the agent port, QMP and console are unix sockets and a file QEMU never waits on", () => {
    const chardevs = values(buildQemuArgv(spec()), "-chardev");
    assert.ok(chardevs.includes("socket,id=agent,path=/run/ws/agent.sock,server=on,wait=off"));
    assert.ok(chardevs.includes("socket,id=qmp,path=/run/ws/qmp.sock,server=on,wait=off"));
    assert.ok(chardevs.includes("file,id=console,path=/run/ws/console.log,append=on"));
    const argv = buildQemuArgv(spec());
    assert.ok(values(argv, "-device").some((d) => d.startsWith("virtserialport,") && /(^|,)chardev=agent(,|$)/.test(d) && /(^|,)name=agentiso(,|$)/.test(d)));
    assert.ok(argv.includes("-no-reboot") && argv.includes("-daemonize"));
    assert.deepEqual(values(argv, "-pidfile"), ["/run/ws/qemu.pid"]);
  });

  test("the disk format decides the drive's format and cache mode", () => {
    const drive = (format: QemuLaunchSpec["disk"]["format"]) => values(buildQemuArgv(spec({ disk: { path: "/d", format } })), "-drive")[0]!;
    assert.match(drive("qcow2"), /format=qcow2,cache=writeback/);
    assert.match(drive("raw"), /format=raw,cache=writeback/);
    assert.match(drive("device"), /format=raw,cache=none/);
    // a memory save must not make QEMU reopen the disk by path (its -runas uid cannot)
    for (const format of ["raw", "qcow2", "device"] as const) assert.match(drive(format), /,auto-read-only=off$/);
  });

  test("commas in names and paths are doubled so QEMU reads them as one value", () => {
    const argv = buildQemuArgv(spec({ name: "a,b", agentSocketPath: "/run/x,y/agent.sock", disk: { path: "/p,q/disk.raw", format: "raw" } }));
    assert.deepEqual(values(argv, "-name"), ["a,,b,process=a,,b"]);
    assert.ok(values(argv, "-chardev").includes("socket,id=agent,path=/run/x,,y/agent.sock,server=on,wait=off"));
    assert.match(values(argv, "-drive")[0]!, /file=\/p,,q\/disk\.raw,format=raw/);
    assert.equal(escapeOption("a,,b"), "a,,,,b");
  });

  test("every QEMU runs under its seccomp sandbox, and drops root for the uid it is given", () => {
    for (const accel of ["tcg", "kvm"] as const) {
      const argv = buildQemuArgv(spec({ accel, ...(accel === "kvm" && { tscKhz: undefined }) }));
      assert.deepEqual(values(argv, "-sandbox"), ["on,obsolete=deny,resourcecontrol=deny"]);
      assert.deepEqual(values(argv, "-runas"), [], "no uid given: no -runas");
    }
    assert.deepEqual(values(buildQemuArgv(spec({ runAs: { uid: 99999, gid: 99998 } })), "-runas"), ["99999:99998"]);
    for (const bad of [{ uid: 0, gid: 99999 }, { uid: 99999, gid: 0 }, { uid: -1, gid: 5 }, { uid: 1.5, gid: 5 }]) {
      assert.ok(refused(() => buildQemuArgv(spec({ runAs: bad }))), JSON.stringify(bad));
    }
  });

  test("kernel and initrd paths with commas and bad sizes are refused", () => {
    assert.ok(refused(() => buildQemuArgv(spec({ kernelPath: "/a,b/vmlinux" }))));
    assert.ok(refused(() => buildQemuArgv(spec({ initrdPath: "/a,b/initrd.img" }))));
    assert.ok(refused(() => buildQemuArgv(spec({ memoryMiB: 0 }))));
    assert.ok(refused(() => buildQemuArgv(spec({ cpus: 1.5 }))));
    assert.ok(refused(() => buildQemuArgv(spec({ vsockCid: 2 }))));
    assert.ok(refused(() => buildQemuArgv(spec({ vmgenid: "not-a-uuid" }))));
  });
});

describe("kernelCommandLine", () => {
  test("it tells /init the root disk, the agent port and node, and turns a dead init into QEMU exiting", () => {
    const words = kernelCommandLine(spec()).split(" ");
    for (const word of ["console=ttyS0", "root=/dev/vda", "agentiso.port=agentiso", "agentiso.node=/usr/bin/node", "panic=-1"]) {
      assert.ok(words.includes(word), word);
    }
  });

  test("extra kernel arguments are appended, and ones with spaces or quotes are refused", () => {
    assert.ok(kernelCommandLine(spec({ kernelArgs: ["loglevel=7"] })).endsWith(" loglevel=7"));
    assert.ok(refused(() => buildQemuArgv(spec({ kernelArgs: ["a b"] }))));
    assert.ok(refused(() => buildQemuArgv(spec({ kernelArgs: ['x="y"'] }))));
  });
});

describe("host TSC parsing", () => {
  test("the refined calibration in the kernel log wins over the first estimate", () => {
    const log = "[0.0] tsc: Detected 2596.100 MHz processor\n[1.2] tsc: Refined TSC clocksource calibration: 2596.134 MHz\n";
    assert.equal(tscKhzFromKernelLog(log), 2_596_134);
    assert.equal(tscKhzFromKernelLog("[0.0] tsc: Detected 3000.000 MHz processor"), 3_000_000);
    assert.equal(tscKhzFromKernelLog("nothing here"), undefined);
  });

  test("cpuinfo's first cpu MHz line is read as kHz", () => {
    assert.equal(tscKhzFromCpuinfo("processor\t: 0\ncpu MHz\t\t: 2596.134\ncpu MHz\t\t: 1200.000\n"), 2_596_134);
    assert.equal(tscKhzFromCpuinfo("processor\t: 0\n"), undefined);
  });
});
