#!/usr/bin/env bash
# Installs what the gateway needs and is missing: Debian packages (local speech engines), npm
# packages, and the build. Safe to run again; it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(espeak-ng libespeak-ng1 pocketsphinx pocketsphinx-en-us sox)
# Only the test suite needs these (speech fixtures, browser, a real Prometheus scraping /metrics,
# a real Redis for resume: the tests start their own redis-server, never the system service).
# podman's recommended packages (network and user-namespace helpers) are needed to run images.
WITH_RECOMMENDS=()
if [[ "${1:-}" == "--test" ]]; then
  DEBIAN_PACKAGES+=(flite prometheus chromium openssl debootstrap redis-server)
  WITH_RECOMMENDS+=(podman runc)
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do installed "$pkg" || missing+=("$pkg"); done
missing_with_recommends=()
for pkg in "${WITH_RECOMMENDS[@]}"; do installed "$pkg" || missing_with_recommends+=("$pkg"); done
if ((${#missing[@]} + ${#missing_with_recommends[@]})); then
  echo "setup: installing Debian packages: ${missing[*]} ${missing_with_recommends[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # Packages such as prometheus and nginx would start system services: the tests run their own.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  if ((${#missing[@]})); then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ((${#missing_with_recommends[@]})); then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing_with_recommends[@]}" >/dev/null
  fi
fi

# onnxruntime-node's install step would fetch GPU binaries from the network; its CPU binaries
# ship in the npm package, so skip that step.
export ONNXRUNTIME_NODE_INSTALL=skip
# `npm install`, not `npm ci`: both keep the lock's versions, but `npm ci` refuses a lock whose
# other-platform optional packages (buf, llama.cpp builds for macOS, Windows, ARM) a registry
# mirror does not carry, which is the case on the project's CI machines.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages"
  npm install --no-audit --no-fund --loglevel=error
fi
npm run --silent build
