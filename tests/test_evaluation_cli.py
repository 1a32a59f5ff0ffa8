"""`cardadmin export time`: files read back, filters by name, clean errors with exit code 2."""

from __future__ import annotations

import csv
from datetime import timedelta

import openpyxl
import pytest

from cardadmin.db import db
from cardadmin.timelog import service, sheets
from tests.timelog_fixtures import MONDAY_W37, build_pilot, entry


@pytest.fixture
def pilot(app, world):
    with app.app_context():
        p = build_pilot(world)
        for n, minutes in enumerate([30, 45]):
            service.create_entry(p.users["card_admin"], entry(p, work_date=MONDAY_W37 + timedelta(days=n),
                                                              start="", end="", duration=minutes))
        service.create_entry(p.users["card_admin2"], entry(p, start="", end="", duration=15,
                                                           activity_id=p.activities["travel"]))
        sheets.submit(p.users["card_admin"], 2026, 37)
        db.session.commit()
        return p


def test_export_csv_and_xlsx_with_filters(runner, pilot, tmp_path):
    out = tmp_path / "tid.csv"
    result = runner.invoke(args=["export", "time", "--format", "csv", "--out", str(out), "--semicolon", "--bom"])
    assert result.exit_code == 0, result.output
    assert "3 tidsposter exporterade" in result.output
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert len(rows) == 4 and sum(int(r[5]) for r in rows[1:]) == 90
    out = tmp_path / "tid.xlsx"
    result = runner.invoke(args=["export", "time", "--format", "xlsx", "--out", str(out), "--person", "card_admin",
                                 "--status", "submitted", "--site", "Kortutlämning Lycksele"])
    assert result.exit_code == 0, result.output
    values = list(openpyxl.load_workbook(out, read_only=True).active.iter_rows(values_only=True))
    assert len(values) == 3 and {v[7] for v in values[1:]} == {"card_admin"}
    result = runner.invoke(args=["export", "time", "--format", "csv", "--out", str(tmp_path / "x.csv"),
                                 "--activity", "Resor"])
    assert "1 tidsposter" in result.output


def test_unknown_names_and_bad_dates_exit_2(runner, pilot, tmp_path):
    for extra in (["--person", "nobody"], ["--from", "igår"], ["--site", "Ingenstans"], ["--site", "²"],
                  ["--period", "99999999999999999999"]):  # '²' and an id past INTEGER were tracebacks
        result = runner.invoke(args=["export", "time", "--format", "csv", "--out", str(tmp_path / "x.csv"), *extra])
        assert result.exit_code == 2 and "Fel:" in result.output and "Traceback" not in result.output
