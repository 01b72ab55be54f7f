#!/usr/bin/env bash
# Console browser tests: build the console if needed, then run tests/*.test.mjs
# with node's test runner against photofinishd (serving console/dist) and the
# local AWS stack, in Debian's chromium. Screenshots go to console/test-results/.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export CHROMIUM_PATH
if [ ! -x "$CHROMIUM_PATH" ]; then
	echo "chromium not found at $CHROMIUM_PATH (apt-get install -y chromium, or set CHROMIUM_PATH)" >&2
	exit 1
fi
[ -d node_modules ] || npm ci --no-audit --no-fund

# Rebuild unless dist/ is newer than every source and config file.
if [ ! -f dist/index.html ] || [ -n "$(find src index.html vite.config.js package.json package-lock.json \
	-newer dist/index.html -print -quit 2>/dev/null || true)" ]; then
	npm run --silent build
fi

mkdir -p test-results
exec node --test --test-concurrency=1 --test-timeout=900000 tests/*.test.mjs
