#!/usr/bin/env bash
# Installs everything agentiso and its tests need on a fresh Debian 12 machine (as root),
# then the npm dependencies and the build. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  crun runc tini bubblewrap uidmap       # OCI runtimes (crun preferred), init for PID 1, unprivileged helpers
  btrfs-progs zfs-fuse                   # copy-on-write storage backends
  mmdebstrap zstd xz-utils               # image builds and rootfs tarball import
  slirp4netns nftables iproute2          # workspace networking
  qemu-system-x86 qemu-utils busybox-static lz4  # microVM runtime (lz4: the cloud kernel's vmlinuz payload)
  git ca-certificates curl
  strace util-linux e2fsprogs            # the image tests watch opencode's syscalls; mkfs.ext4 for VM disks
  prometheus                             # promtool and a real scrape in the metrics tests
  gcc libc6-dev                          # a preload library the agent-takeover test plants in a workspace
  tmux                                   # a real terminal for the `ws shell` test (tmux send-keys, capture-pane)
  chromium                               # the web dashboard's tests drive it headless (puppeteer-core)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "install-deps: apt-get install ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# crun refuses a hybrid cgroup host whose cgroup2 tree holds a controller (agentiso then falls
# back to the slower runc; docs/runtime-container.md "Which OCI runtime"). Such a controller
# that nothing uses in cgroup2 is mounted as a v1 hierarchy, as systemd's hybrid layout has it.
./scripts/cgroup-hybrid-controllers.sh

# The microVM guest kernel is fetched with `apt-get download` at first use: it needs apt lists.
if ! apt-cache show --no-all-versions linux-image-cloud-amd64 >/dev/null 2>&1; then
  apt-get update -qq
fi

# Debian bookworm's own node 18, to prove the guest agent bundle runs on it (cached outside the clone).
./scripts/fetch-node18.sh >/dev/null

# A node_modules that is a symlink belongs to another checkout (a git worktree sharing its
# parent's packages): `npm ci` would empty the target, so it is left alone.
if [ -L node_modules ]; then
  echo "node_modules is a symlink (to $(readlink node_modules)): not reinstalling it" >&2
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
