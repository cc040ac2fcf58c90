#!/usr/bin/env bash
# Installs what the Letta server harness needs on a fresh Debian machine, as root:
# Redis from Debian, then Letta 0.16.8 (own virtualenv), PostgreSQL+pgvector and the schema.
# Idempotent: a second run only checks markers. Run from anywhere; uses the project's .venv when present.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v redis-server >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "redis-server is missing and this is not root: install it (apt-get install -y redis-server)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # The Debian package starts a system-wide instance; the harness runs its own on a free port.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
fi

PYTHON="python3"
if [[ -x .venv/bin/python ]]; then PYTHON=".venv/bin/python"; fi
"${PYTHON}" -c "import httpx" 2>/dev/null || { echo "the harness needs httpx in ${PYTHON}" >&2; exit 1; }
time "${PYTHON}" -m tests.letta_server provision
