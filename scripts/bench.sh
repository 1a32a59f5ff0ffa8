#!/usr/bin/env bash
# Run the benchmarks (all, or those named: scripts/bench.sh audit). Figures go in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m bench "$@"
