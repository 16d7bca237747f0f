#!/usr/bin/env sh
# Build {{component}} (a wasm32-wasip2 component) into this directory, beside pack.toml.
set -eu
cd "$(dirname "$0")"
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
cargo build --release --quiet
cp "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/rule_{{dir_snake}}.wasm" {{component}}
echo "built $(pwd)/{{component}} ($(wc -c < {{component}}) bytes)"
