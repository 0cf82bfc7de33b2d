#!/bin/sh
# agentiso microVM /init (busybox sh, inside the initramfs built by src/images/vm-boot).
# Contract with the host (src/runtimes/vm/qemu-command.ts builds the kernel command line):
#   root=/dev/vda             ext4 workspace disk, mounted read-write as the new root
#   agentiso.port=NAME        virtio-serial port whose /sys/class/virtio-ports/*/name is NAME
#   agentiso.node=PATH        node inside the rootfs (default /usr/bin/node)
#   agentiso.pids=N           pids.max of the cgroup the agent and every exec run in
#   agentiso.memory=BYTES     memory.max of that cgroup (guest RAM has room for the kernel on top)
#   agentiso.ip=ADDR/PREFIX   only with a network device (egress): eth0's address; with
#   agentiso.gw=ADDR          its default route and
#   agentiso.dns=ADDR         the one nameserver of /etc/resolv.conf (bind-mounted from the tmpfs)
# It loads the virtio modules, mounts the disk, stages tini, busybox and the agent on a tmpfs
# at /.agentiso and switch_roots into /.agentiso/init, which runs
# `tini -s -- node agent.cjs --device /dev/vportNpM` and powers off, synced, when it ends.
# Any failure prints one `agentiso-init:` line on the console and powers off, so the host
# sees QEMU exit instead of a hung guest.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

fail() {
  echo "agentiso-init: $*" >/dev/console 2>/dev/null || echo "agentiso-init: $*"
  sync
  poweroff -f
  # poweroff -f returns only when the machine cannot power off; reboot (QEMU runs -no-reboot)
  reboot -f
}

mount -t proc proc /proc || fail "cannot mount /proc"
mount -t sysfs sysfs /sys || fail "cannot mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "cannot mount /dev"

root=/dev/vda
port=agentiso
node=/usr/bin/node
pids=
memory=
ip=
gw=
dns=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    root=*) root="${arg#root=}" ;;
    agentiso.port=*) port="${arg#agentiso.port=}" ;;
    agentiso.node=*) node="${arg#agentiso.node=}" ;;
    agentiso.pids=*) pids="${arg#agentiso.pids=}" ;;
    agentiso.memory=*) memory="${arg#agentiso.memory=}" ;;
    agentiso.ip=*) ip="${arg#agentiso.ip=}" ;;
    agentiso.gw=*) gw="${arg#agentiso.gw=}" ;;
    agentiso.dns=*) dns="${arg#agentiso.dns=}" ;;
  esac
done

# Modules in dependency order, one path per line (written by the initramfs builder).
while read -r module; do
  [ -n "$module" ] || continue
  insmod "/lib/modules/$module" || fail "cannot load module $module"
done </lib/modules/load-order

# Device nodes appear asynchronously after the drivers probe: wait, bounded (~5 s).
wait_for() {
  tries=0
  while ! eval "$1"; do
    tries=$((tries + 1))
    [ "$tries" -le 500 ] || return 1
    usleep 10000
  done
}

wait_for "[ -b $root ]" || fail "disk $root did not appear (is the virtio-blk-device attached?)"

find_port() {
  for entry in /sys/class/virtio-ports/*; do
    [ -f "$entry/name" ] || continue
    if [ "$(cat "$entry/name")" = "$port" ]; then
      device="/dev/${entry##*/}"
      [ -c "$device" ] && return 0
    fi
  done
  return 1
}
device=
wait_for find_port || fail "virtio-serial port named $port not found"

mkdir -p /newroot
mount -t ext4 -o rw,noatime "$root" /newroot || fail "cannot mount $root (ext4) on /newroot"
[ -x "/newroot$node" ] || fail "node not found at $node in the workspace disk (agentiso.node=)"

ip link set lo up || fail "cannot bring up lo"
# egress: QEMU's user-mode network, configured statically (no DHCP round trip at every boot)
if [ -n "$ip" ]; then
  wait_for "[ -e /sys/class/net/eth0 ]" || fail "network device eth0 did not appear (is the virtio-net-device attached?)"
  ip addr add "$ip" dev eth0 && ip link set eth0 up && ip route add default via "$gw" dev eth0 \
    || fail "cannot configure eth0 ($ip via $gw)"
fi

mkdir -p /newroot/.agentiso /newroot/proc /newroot/sys /newroot/dev /newroot/run /newroot/tmp \
  || fail "cannot create mount points on $root"
mount -t tmpfs -o mode=0755,nosuid,nodev agentiso /newroot/.agentiso || fail "cannot mount tmpfs on /.agentiso"
cp /agentiso/tini /agentiso/agent.cjs /bin/busybox /newroot/.agentiso/ || fail "cannot stage tini, busybox and the agent"
# the resolver the host names, over the disk's resolv.conf without writing it (as a container's
# is bind-mounted); a missing file or a symlink (to a stub resolver) becomes an empty file first
if [ -n "$dns" ]; then
  echo "nameserver $dns" >/newroot/.agentiso/resolv.conf
  { [ -f /newroot/etc/resolv.conf ] && [ ! -L /newroot/etc/resolv.conf ]; } || { rm -f /newroot/etc/resolv.conf && : >/newroot/etc/resolv.conf; } \
    || fail "cannot create /etc/resolv.conf"
  mount --bind /newroot/.agentiso/resolv.conf /newroot/etc/resolv.conf || fail "cannot mount /etc/resolv.conf"
fi

mount --move /proc /newroot/proc || fail "cannot move /proc"
mount --move /sys /newroot/sys || fail "cannot move /sys"
mount --move /dev /newroot/dev || fail "cannot move /dev"
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /newroot/dev/pts || fail "cannot mount devpts"
mount -t tmpfs -o mode=1777,nosuid,nodev shm /newroot/dev/shm || fail "cannot mount /dev/shm"
mount -t tmpfs -o mode=0755,nosuid,nodev run /newroot/run || fail "cannot mount /run"

# PID 1 of the workspace stays a (busybox) shell: it starts tini, which reaps orphans and runs
# the agent, in a cgroup limited to agentiso.pids processes and agentiso.memory bytes (as in a
# container, the workspace's memory covers the agent and its commands: a hog there meets the
# cgroup's OOM killer, not the kernel's own reserve); when the agent exits (a `shutdown`
# request, or a crash) it flushes the disk and powers off, so QEMU exits with every byte the
# workspace wrote on its disk. Were tini PID 1, its exit would panic the kernel unsynced.
cat >/newroot/.agentiso/init <<'GUEST_INIT' || fail "cannot write the workspace init"
#!/.agentiso/busybox sh
bb=/.agentiso/busybox
node="$1" device="$2" pids="$3" memory="$4"
cg=/sys/fs/cgroup
if { [ -n "$pids" ] || [ -n "$memory" ]; } && $bb mount -t cgroup2 cgroup2 $cg; then
  echo "+pids +memory" >$cg/cgroup.subtree_control
  $bb mkdir -p $cg/workspace
  [ -z "$pids" ] || echo "$pids" >$cg/workspace/pids.max
  [ -z "$memory" ] || echo "$memory" >$cg/workspace/memory.max
fi
$bb sh -c '[ -d /sys/fs/cgroup/workspace ] && echo $$ >/sys/fs/cgroup/workspace/cgroup.procs; exec /.agentiso/tini -s -- "$@"' tini "$node" /.agentiso/agent.cjs --device "$device"
echo "agentiso-init: the agent exited ($?): syncing and powering off" >/dev/console
$bb sync
$bb poweroff -f
GUEST_INIT
chmod 0755 /newroot/.agentiso/init

exec switch_root /newroot /.agentiso/init "$node" "$device" "$pids" "$memory"
