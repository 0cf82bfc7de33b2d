import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseCgroupMounts } from "../../src/runtimes/host-cgroups.js";

const HYBRID = `
25 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 25 0:23 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
27 26 0:24 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
28 26 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
29 26 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
30 26 0:27 / /sys/fs/cgroup/pids rw,relatime shared:12 - cgroup cgroup rw,pids
31 26 0:28 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
`;

describe("cgroup hierarchies", () => {
  test("every v1 controller mount and the v2 unified tree of a hybrid host are found, tmpfs is not", () => {
    assert.deepEqual(parseCgroupMounts(HYBRID), [
      "/sys/fs/cgroup/unified", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/systemd",
    ]);
  });

  test("a pure cgroup v2 host has exactly one hierarchy at the root", () => {
    assert.deepEqual(parseCgroupMounts("35 25 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"), ["/sys/fs/cgroup"]);
  });

  test("cgroup mounts outside /sys/fs/cgroup (e.g. inside a container's rootfs) are ignored", () => {
    assert.deepEqual(parseCgroupMounts("40 39 0:26 / /pool/ws/w1/sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n"), []);
  });
});
