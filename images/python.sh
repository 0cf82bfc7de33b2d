#!/usr/bin/env bash
# python: base's packages + python3 python3-pip python3-venv, bootstrapped in one mmdebstrap run (no parent: apt inside a
# copied rootfs would need /proc, /dev and DNS set up by hand; mmdebstrap does it cleanly).
# Builder contract: $ROOTFS is an empty directory to fill; $AGENTISO_IMAGES_DIR is images/.
set -euo pipefail
source "$AGENTISO_IMAGES_DIR/lib/debian.sh"
debian_bootstrap python3 python3-pip python3-venv
