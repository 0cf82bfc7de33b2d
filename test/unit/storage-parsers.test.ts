// Parsers of host tool output the storage drivers rely on: btrfs qgroup tables, /proc/mounts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseQgroupGroups, parseQgroupShow } from "../../src/storage/btrfs-cli.js";
import { parseMounts } from "../../src/storage/mount-table.js";

const QGROUP_SHOW = `Qgroupid    Referenced    Exclusive  Max referenced  Max exclusive   Path 
--------    ----------    ---------  --------------  -------------   ---- 
0/5              16384        16384            none           none   <toplevel>
0/256          5259264      5259264            none       16777216   ais1/workspaces/a
0/257            16384        16384            none           none   ais1/snapshots/a/my snap
`;

test("qgroup rows are keyed by path, with the exclusive limit only where one is set", () => {
  const usage = parseQgroupShow(QGROUP_SHOW);
  assert.deepEqual(usage.get("ais1/workspaces/a"), { referencedBytes: 5259264, exclusiveBytes: 5259264, maxExclusiveBytes: 16777216 });
  assert.deepEqual(usage.get("ais1/snapshots/a/my snap"), { referencedBytes: 16384, exclusiveBytes: 16384 });
  assert.equal(usage.size, 3);
});

test("mount entries decode octal escapes so paths with spaces match", () => {
  const [entry] = parseMounts("ais1-ws-a /tmp/with\\040space/merged overlay rw,lowerdir=/x 0 0\n");
  assert.deepEqual(entry, { source: "ais1-ws-a", target: "/tmp/with space/merged", fstype: "overlay", options: "rw,lowerdir=/x" });
});

test("higher-level qgroups are keyed by id, whatever their path column says", () => {
  const table = `${QGROUP_SHOW}1/100         52412416     52412416            none       52428800   <0 member qgroups>
1/7                 0            0            none           none   <0 member qgroups>
`;
  const groups = parseQgroupGroups(table);
  assert.deepEqual(groups.get("1/100"), { referencedBytes: 52412416, exclusiveBytes: 52412416, maxExclusiveBytes: 52428800 });
  assert.deepEqual(groups.get("1/7"), { referencedBytes: 0, exclusiveBytes: 0 });
  assert.equal(groups.size, 2);
  assert.equal(parseQgroupShow(table).has("<0 member qgroups>"), false);
});
