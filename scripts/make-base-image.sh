#!/usr/bin/env bash
# Makes a local Debian + Node.js base image for podman when no image registry is reachable:
# debootstrap a minimal bookworm, copy this machine's node and npm into it, import it.
#   scripts/make-base-image.sh [IMAGE]      (default localhost/node-base:20-bookworm)
set -euo pipefail
IMAGE="${1:-localhost/node-base:20-bookworm}"
if podman image exists "$IMAGE"; then echo "$IMAGE exists"; exit 0; fi
ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT
debootstrap --variant=minbase bookworm "$ROOTFS" http://deb.debian.org/debian >/dev/null
NODE="$(command -v node)"
NPM_DIR="$(dirname "$(readlink -f "$(command -v npm)")")/.."
install -m 0755 "$NODE" "$ROOTFS/usr/local/bin/node"
mkdir -p "$ROOTFS/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
# This machine's trust store and npm settings, so that npm in the image reaches the registry the
# way it does here (some networks re-sign TLS with their own CA).
mkdir -p "$ROOTFS/etc/ssl/certs" "$ROOTFS/usr/local/etc"
cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
NPMRC="$(npm config get globalconfig 2>/dev/null || true)"
if [[ -f "$NPMRC" ]]; then cp "$NPMRC" "$ROOTFS/usr/local/etc/npmrc"; fi
tar -C "$ROOTFS" -c . | podman import - "$IMAGE" >/dev/null
echo "made $IMAGE"
