#!/usr/bin/env sh
# Build {{component}} from app.py with a pinned componentize-py (in a venv under .venv; set
# COMPONENTIZE_PY to use another installation).
set -eu
cd "$(dirname "$0")"
VERSION=0.25.1
if [ -z "${COMPONENTIZE_PY:-}" ]; then
    if [ ! -x .venv/bin/python ]; then
        "${PYTHON:-python3}" -m venv .venv
    fi
    if ! .venv/bin/componentize-py --version 2>/dev/null | grep -qx "componentize-py $VERSION"; then
        .venv/bin/pip install --quiet "componentize-py==$VERSION"
    fi
    COMPONENTIZE_PY=.venv/bin/componentize-py
fi
"$COMPONENTIZE_PY" --wit-path wit --world listing-rule componentize app --output {{component}}
echo "built $(pwd)/{{component}} ($(wc -c < {{component}}) bytes)"
