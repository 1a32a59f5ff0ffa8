#!/usr/bin/env bash
# Set up everything cardadmin needs on a Debian machine: system packages (only those missing), the
# virtualenv and the Python packages. Idempotent: a second run changes nothing and is quick.
# Usage: scripts/setup.sh [--test]   (--test adds what the test suite needs)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# pyscard builds from source on Linux; pcscd is the PC/SC service the reader side talks to.
packages=(gcc swig libpcsclite-dev pcscd python3-venv python3-dev)
if [ "$want_test" = 1 ]; then
  # vpcd: the virtual reader the simulated card plugs into; opensc/yubico-piv-tool: standard PIV middleware
  # that must accept the simulated card; chromium: UI journeys; slapd/ldap-utils: HSA sync tests;
  # postgresql: concurrency and migration tests.
  packages+=(vsmartcard-vpcd opensc yubico-piv-tool chromium slapd ldap-utils postgresql)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installerar systempaket: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # slapd asks for an admin password on install; answer nothing (tests run their own slapd).
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.cardadmin-installed
extras=""
[ "$want_test" = 1 ] && extras="[test]"
if [ ! -f "$stamp$extras" ] || [ pyproject.toml -nt "$stamp$extras" ]; then
  # (grep drops this machine kind's notes about local package mirrors it does not have)
  .venv/bin/pip install -q --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
  .venv/bin/pip install -q -e ".${extras}" 2>&1 | { grep -vE "^WARNING: Location|BuildBackendWarning|^  " || true; }
  touch "$stamp$extras"
fi
