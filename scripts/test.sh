#!/usr/bin/env bash
# The whole test suite: set up what is missing (test packages too), then lint, typecheck, test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
npm run --silent lint
npm run --silent typecheck
npm run --silent test:unit
