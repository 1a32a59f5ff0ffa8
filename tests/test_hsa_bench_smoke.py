"""The HSA benchmark still runs (tiny input, real slapd when installed). Speed is never asserted here."""

from bench import hsa


def test_hsa_benchmark_runs(capsys):
    hsa.main(rows=30)
    out = capsys.readouterr().out
    assert "| import CSV |" in out and "| import LDIF |" in out and "| diff directory |" in out
