#!/usr/bin/env bash
# The main job: set up what is missing, then run the gateway on the local engines.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec node bin/voice-gateway.js serve "$@"
