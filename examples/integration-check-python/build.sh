#!/usr/bin/env sh
# Build shop_sync.wasm from app.py with a pinned componentize-py, in a venv under .venv.
set -eu
cd "$(dirname "$0")"

COMPONENTIZE_PY_VERSION=0.25.1
PYTHON=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
if ! .venv/bin/componentize-py --version 2>/dev/null | grep -qx "componentize-py $COMPONENTIZE_PY_VERSION"; then
    .venv/bin/pip install --quiet "componentize-py==$COMPONENTIZE_PY_VERSION"
fi

.venv/bin/componentize-py \
    --wit-path ../../wit \
    --world integration-check \
    componentize app \
    --output shop_sync.wasm

echo "built $(pwd)/shop_sync.wasm ($(wc -c < shop_sync.wasm) bytes)"
