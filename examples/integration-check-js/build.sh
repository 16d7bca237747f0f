#!/usr/bin/env sh
# Build shop_sync.wasm from app.js with the componentize-js pinned in package-lock.json.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
node build.mjs
