#!/usr/bin/env bash
# On a hybrid cgroup host (v1 controllers under /sys/fs/cgroup, cgroup2 at /sys/fs/cgroup/unified),
# mounts each controller still attached to cgroup2 as a v1 hierarchy of its own, so crun can run
# there (crun 1.8 refuses hybrid hosts whose cgroup2 tree holds a controller). Only controllers
# that no cgroup2 group enables are moved; anything else is left alone, and agentiso uses runc.
# Idempotent; a no-op on pure cgroup v1 or v2 hosts. Undone by `umount /sys/fs/cgroup/<controller>`.
set -euo pipefail

root=/sys/fs/cgroup
unified=$root/unified
[ "$(stat -f -c %T "$root" 2>/dev/null)" = tmpfs ] || exit 0
[ "$(stat -f -c %T "$unified" 2>/dev/null)" = cgroup2fs ] || exit 0
controllers=$(cat "$unified/cgroup.controllers")
[ -n "$controllers" ] || exit 0
if [ -n "$(cat "$unified/cgroup.subtree_control")" ]; then
  echo "cgroup: $unified enables controllers for its groups; leaving it alone (agentiso will use runc, not crun)" >&2
  exit 0
fi
for controller in $controllers; do
  mkdir -p "$root/$controller"
  if mount -t cgroup -o "$controller" cgroup "$root/$controller"; then
    echo "cgroup: mounted $controller as a v1 hierarchy at $root/$controller (crun needs cgroup2 without controllers on a hybrid host)" >&2
  else
    rmdir "$root/$controller" 2>/dev/null || true
    echo "cgroup: could not mount $controller as v1; agentiso will use runc, not crun" >&2
  fi
done
