#!/usr/bin/env bash
# One command: set up, migrate, load demo data into an empty SQLite database, and serve the app.
# Idempotent: run it again any time. Stop with Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARDADMIN_ENV=${CARDADMIN_ENV:-development}
exec .venv/bin/cardadmin serve --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
