#!/usr/bin/env bash
# Installs the official Slack SDK for Python (its request signing is what the Slack
# interactivity tests sign with) into tests/notify/.venv from the hash-pinned
# requirements.txt. Idempotent: does nothing when the venv already holds exactly these pins.
# Used by .ci/run and by the test harness.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
stamp="$venv/.signoff-requirements"
if [ -f "$stamp" ] && cmp -s "$stamp" "$here/requirements.txt"; then
  exit 0
fi
python3 -m venv --clear "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --no-deps --only-binary=:all: -r "$here/requirements.txt"
cp "$here/requirements.txt" "$stamp"
