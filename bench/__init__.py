"""Benchmarks: `scripts/bench.sh` (or `.venv/bin/python -m bench`). Each prints its figures and the
ratio against a floor measured in the same run on the same machine."""
