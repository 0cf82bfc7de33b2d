#!/usr/bin/env bash
# Fetches Debian bookworm's own nodejs (v18) into a cache dir outside the repo, so the test
# suite can prove the bundled guest agent runs on the Node that workspace images ship.
# Idempotent: a second run only checks. Usage: scripts/fetch-node18.sh [DIR]
# Run it as: LD_LIBRARY_PATH=DIR/usr/lib/x86_64-linux-gnu DIR/usr/bin/node
set -euo pipefail

DIR="${1:-${AGENTISO_NODE18_DIR:-/var/cache/agentiso-test/node18}}"
LIBDIR="$DIR/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"

runs() { "$DIR/node" -e 'process.exit(process.versions.node.startsWith("18.") ? 0 : 1)' 2>/dev/null; }

if [ -x "$DIR/node" ] && runs; then
  echo "fetch-node18: $DIR/node is ready"
  exit 0
fi

# nodejs + libnode108 and the shared libraries libnode108 links against (apt-cache depends
# libnode108); extracting them all keeps the result independent of what the host has.
# nodejs is pinned to libnode108's version: a host may have a newer nodejs (nodesource) installed.
# Debian's node loads some builtins (acorn, cjs-module-lexer, undici) from absolute paths
# under /usr/share/nodejs; the wrapper below binds the extracted copy there in a private
# mount namespace, so nothing on the host changes.
PACKAGES=(libnode108 libuv1 libc-ares2 libicu72 libnghttp2-14 libbrotli1 libssl3 zlib1g
  node-acorn node-cjs-module-lexer node-undici)
version() { apt-cache policy libnode108 | awk '/Candidate:/ {print $2}'; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$DIR"
download() { (cd "$work" && apt-get download "nodejs=$(version)" "${PACKAGES[@]}" >/dev/null); }
download 2>/dev/null || { apt-get update -qq; download; }
for deb in "$work"/*.deb; do dpkg -x "$deb" "$DIR"; done

# The wrapper execs node in place (same pid), so callers can signal it directly. Needs root.
cat >"$DIR/node" <<WRAPPER
#!/bin/sh
exec unshare -m --propagation private sh -c 'd="\$0"; export LD_LIBRARY_PATH="\$1"; shift; mount --bind "\$d/usr/share/nodejs" /usr/share/nodejs && exec "\$d/usr/bin/node" "\$@"' "$DIR" "$LIBDIR" "\$@"
WRAPPER
chmod +x "$DIR/node"

runs || { echo "fetch-node18: $DIR/node does not run" >&2; exit 1; }
echo "fetch-node18: $DIR/node $("$DIR/node" --version)"
