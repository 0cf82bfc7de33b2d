# Shared by the Debian recipes: bootstrap a bookworm rootfs into $ROOTFS with mmdebstrap.
# Sourced, not run. The builder hashes this file into every recipe's cache key.

# Debian only: the host's sources may list third-party repositories this machine cannot reach.
DEBIAN_SOURCES="deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main"

# Packages every agentiso image has: a shell and the tools an agent and its guest agent need.
BASE_PACKAGES=(
  bash coreutils procps findutils grep sed tar gzip xz-utils zstd
  ca-certificates curl git openssh-client
  less patch diffutils file unzip jq make ripgrep
  nodejs tini
)

# debian_bootstrap EXTRA_PACKAGE... : minbase + BASE_PACKAGES + the extras, small and doc-free.
debian_bootstrap() {
  local include
  include="$(printf '%s,' "${BASE_PACKAGES[@]}" "$@")"
  printf '%s\n' "$DEBIAN_SOURCES" | mmdebstrap \
    --mode=root --variant=minbase --format=directory \
    --include="${include%,}" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --skip=output/dev \
    --customize-hook='rm -rf "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/* "$1"/var/log/apt "$1"/var/log/dpkg.log' \
    --customize-hook='echo agentiso > "$1"/etc/hostname' \
    bookworm "$ROOTFS" -
  # Images carry no device nodes: runtimes mount their own /dev (tmpfs or devtmpfs).
  rm -rf "${ROOTFS:?}"/dev/*
}
