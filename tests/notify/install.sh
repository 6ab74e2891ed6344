#!/usr/bin/env bash
# Installs the official Slack SDK for Python (its request signing is what the Slack
# interactivity tests sign with) into tests/notify/.venv from the hash-pinned
# requirements.txt. Idempotent. Used by .ci/run and by the test harness.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../venv-install.sh" "$here"
