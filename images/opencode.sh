#!/usr/bin/env bash
# opencode: base + the pinned opencode binary at /usr/local/bin/opencode + a pre-seeded
# opencode config dir, so opencode never tries to npm-install @opencode-ai/plugin at start.
# parent: base
# Builder contract: $ROOTFS starts as a copy of base's rootfs; $OPENCODE_BIN is the host's
# opencode binary from the pinned npm package (node_modules/opencode-linux-x64/bin/opencode).
set -euo pipefail

OPENCODE_VERSION=1.18.33
# What opencode writes into its config dir at first start (same name, same exact pin).
SEED_DIR="$ROOTFS/opt/agentiso/opencode/xdg-config/opencode"

: "${OPENCODE_BIN:?set OPENCODE_BIN to the host opencode binary (node_modules/opencode-linux-x64/bin/opencode)}"
found="$("$OPENCODE_BIN" --version)"
if [ "$found" != "$OPENCODE_VERSION" ]; then
  echo "opencode recipe pins $OPENCODE_VERSION but $OPENCODE_BIN is $found: update the pin (and package.json) together" >&2
  exit 1
fi
install -D -m 0755 "$OPENCODE_BIN" "$ROOTFS/usr/local/bin/opencode"

mkdir -p "$SEED_DIR"
printf '{\n  "dependencies": {\n    "@opencode-ai/plugin": "%s"\n  }\n}\n' "$OPENCODE_VERSION" > "$SEED_DIR/package.json"
printf '{\n  "$schema": "https://opencode.ai/config.json"\n}\n' > "$SEED_DIR/opencode.jsonc"
printf 'node_modules\npackage.json\npackage-lock.json\nbun.lock\n.gitignore' > "$SEED_DIR/.gitignore"
npm_cache="$(mktemp -d)"
trap 'rm -rf "$npm_cache"' EXIT
# The host's npm fetches from the npm registry at build time; the image needs no network later.
# --ignore-scripts: no package code runs on the host as root; the plugin needs no build step.
(cd "$SEED_DIR" && npm install --ignore-scripts --no-audit --no-fund --no-update-notifier --cache "$npm_cache" --loglevel=error >&2)
test -f "$SEED_DIR/package-lock.json"
test -d "$SEED_DIR/node_modules/@opencode-ai/plugin"
