#!/usr/bin/env bash
# The test command of README.md: installs what the tests need, then typecheck, lint and the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
npm run typecheck --silent
npm run lint --silent
npm test
