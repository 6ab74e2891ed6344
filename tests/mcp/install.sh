#!/usr/bin/env bash
# Installs the official MCP Python SDK (the client the signoff mcp tests drive) into
# tests/mcp/.venv from the hash-pinned requirements.txt. Idempotent: does nothing when the
# venv already holds exactly these pins. Used by .ci/run and by the test harness.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../venv-install.sh" "$here"
