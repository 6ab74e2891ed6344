#!/usr/bin/env bash
# Installs DIR/requirements.txt (hash-pinned: pip install --require-hashes, wheels only, no
# dependency resolution) into DIR/.venv. Idempotent: does nothing when the venv already holds
# exactly these pins. Used through tests/mcp/install.sh and tests/notify/install.sh.
set -euo pipefail
here="$(cd "$1" && pwd)"
venv="$here/.venv"
stamp="$venv/.signoff-requirements"
if [ -f "$stamp" ] && cmp -s "$stamp" "$here/requirements.txt"; then
  exit 0
fi
python3 -m venv --clear "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --no-deps --only-binary=:all: -r "$here/requirements.txt"
cp "$here/requirements.txt" "$stamp"
