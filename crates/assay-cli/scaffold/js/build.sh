#!/usr/bin/env sh
# Build {{component}} from app.js with the componentize-js that package.json pins.
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/@bytecodealliance/componentize-js ]; then
    npm install --no-audit --no-fund --loglevel=error
fi
node build.mjs
