"""The benchmarks still run (on tiny inputs). Speed is measured by `scripts/bench.sh`, never asserted here."""

from bench import audit_chain


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
