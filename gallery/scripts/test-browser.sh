#!/usr/bin/env bash
# Browser tests: build the gallery if needed, then run tests/browser/*.test.mjs
# with node's test runner against the built server, using Debian's chromium.
# Exits non-zero when a test fails. Screenshots go to gallery/test-results/.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export CHROMIUM_PATH
if [ ! -x "$CHROMIUM_PATH" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "chromium not found at $CHROMIUM_PATH: installing Debian's chromium" >&2
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	fi
	if [ ! -x "$CHROMIUM_PATH" ]; then
		echo "chromium not found at $CHROMIUM_PATH (apt-get install -y chromium, or set CHROMIUM_PATH)" >&2
		exit 1
	fi
fi

if [ ! -d node_modules ]; then
	npm ci
fi

# Rebuild unless build/ is newer than every source and config file.
stale=0
if [ ! -f build/index.js ]; then
	stale=1
elif [ -n "$(find src static svelte.config.js vite.config.ts tsconfig.json package.json package-lock.json \
	-newer build/index.js -print -quit 2>/dev/null || true)" ]; then
	stale=1
fi
if [ "$stale" = 1 ]; then
	npm run build
fi

mkdir -p test-results
exec node --test --test-concurrency=1 tests/browser/*.test.mjs
