"""The benchmarks still run (on tiny inputs). Speed is measured by `scripts/bench.sh`, never asserted here."""

from bench import audit_chain


def test_audit_benchmark_runs(capsys):
    audit_chain.main(rows=50)
    out = capsys.readouterr().out
    assert "| append |" in out and "| verify |" in out


def test_export_benchmark_runs(capsys):
    from bench import export

    export.main(rows=300)
    out = capsys.readouterr().out
    assert "| CSV export |" in out and "| XLSX export |" in out and "dashboard" in out
