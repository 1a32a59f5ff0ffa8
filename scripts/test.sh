#!/usr/bin/env bash
# One command: set up everything the tests need (system packages, venv, pcscd + vpcd, PostgreSQL),
# lint, and run every test — on SQLite, then the database tests again on real PostgreSQL.
# Idempotent. Extra arguments go to pytest (e.g. scripts/test.sh -k audit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
# shellcheck source=scripts/services.sh
source scripts/services.sh
start_pcscd_with_vpcd
start_postgres

export CARDADMIN_REQUIRE_PCSC=1   # reader tests fail, not skip, when pcscd/vpcd is missing here
export CARDADMIN_REQUIRE_POSTGRES=1
mkdir -p test-artifacts

echo "== ruff check"
.venv/bin/ruff check .

echo "== pytest (SQLite, everything)"
.venv/bin/pytest -p no:cacheprovider "$@"

echo "== pytest (PostgreSQL: database tests)"
CARDADMIN_TEST_DATABASE_URL="$POSTGRES_TEST_URL" .venv/bin/pytest -p no:cacheprovider -m "not pcsc and not browser" "$@"
