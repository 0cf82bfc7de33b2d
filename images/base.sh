#!/usr/bin/env bash
# base: Debian bookworm minbase with bash, coreutils, procps, git, ca-certificates, curl,
# nodejs (runs the guest agent), tini, and the everyday tools an agent reaches for.
# Builder contract: $ROOTFS is an empty directory to fill; $AGENTISO_IMAGES_DIR is images/.
set -euo pipefail
source "$AGENTISO_IMAGES_DIR/lib/debian.sh"
debian_bootstrap
