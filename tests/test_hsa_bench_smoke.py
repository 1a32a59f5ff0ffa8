"""The HSA benchmark still runs (tiny input, real slapd: scripts/test.sh installs it). Speed is never asserted
here; the benchmark itself checks that its diff finds exactly the entries it changed (one in a hundred)."""

from bench import hsa
from tests.hsa_ldap.slapd import available


def test_hsa_benchmark_runs(capsys):
    assert available(), "slapd is not installed (scripts/setup.sh --test installs it)"
    hsa.main(rows=300)  # three changed entries for the diff to find
    out = capsys.readouterr().out
    assert "| import CSV |" in out and "| import LDIF |" in out
    assert "| diff directory |" in out and "slapd not installed" not in out
