"""The benchmarks still run (on tiny inputs). Speed is measured by `scripts/bench.sh`, never asserted here."""

import pytest

from bench import audit_chain
from tests.hardware.conftest import vpcd_reader  # noqa: F401 (fixture)


def test_audit_benchmark_runs(capsys):
    audit_chain.main(rows=50)
    out = capsys.readouterr().out
    assert "| append |" in out and "| verify |" in out


def test_orders_benchmark_runs(capsys, monkeypatch):
    from bench import orders

    monkeypatch.setattr(orders, "REQUESTS", 2)
    orders.main(sizes=[300, 600])
    out = capsys.readouterr().out
    assert "| RA queue |" in out and "| search by card number |" in out and "ratio (target ≤ 1.5)" in out


@pytest.mark.pcsc
def test_verify_benchmark_runs(capsys, vpcd_reader):  # noqa: F811 (the fixture)
    """Through real pcscd + vpcd (only the reader helper runs pcsc tests)."""
    from bench import verify

    verify.main(rounds=1, key_types=("p256",), opensc=1)
    out = capsys.readouterr().out
    assert "| p256 | 11 |" in out


def test_export_benchmark_runs(capsys):
    from bench import export

    export.main(rows=300)
    out = capsys.readouterr().out
    assert "| CSV export |" in out and "| XLSX export |" in out and "dashboard" in out
