"""Issue 18: every CSV/XLSX the app writes neutralises formula starts (one writer, cardadmin.spreadsheet), and
every response with personal data (downloads, API JSON) says Cache-Control: no-store, with one charset."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from tests.conftest import World
from tests.test_api import _make_token
from tests.test_hsa_import import HEADER, run

PLANTED = HEADER + (
    "hsaUnit,SE2321000222-LL01,,,,,Lycksele lasarett,\n"
    'hsaPerson,SE2321000222-P1,"=HYPERLINK(""x"")",@SUM(1),,SE2321000222-LL01,,\n'
    "hsaPerson,SE2321000222-P2,+1+1,-2+3,,,,\n"
)
EXPECTED = {'\'=HYPERLINK("x")', "'@SUM(1)", "'+1+1", "'-2+3"}


def _plant(app: Any) -> None:
    with app.app_context():
        result, _ = run(PLANTED)
        assert result.commit, result


def _cells(text: str) -> set[str]:
    return {cell for row in csv.reader(io.StringIO(text)) for cell in row}


def test_hsa_export_over_the_web_neutralises_planted_names(app: Any, client: Any, world: World) -> None:
    _plant(app)
    client.login("admin")
    response = client.get("/hsa/export.csv")
    cells = _cells(response.get_data(as_text=True))
    assert cells >= EXPECTED and not {c for c in cells if c and c[0] in "=+-@"}
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    ldif = client.get("/hsa/export.ldif")
    assert ldif.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert ldif.headers["Cache-Control"] == "no-store"


def test_hsa_export_on_the_cli_neutralises_planted_names(app: Any, world: World, tmp_path: Path) -> None:
    _plant(app)
    out = tmp_path / "hsa.csv"
    result = app.test_cli_runner().invoke(args=["hsa", "export", str(out)])
    assert result.exit_code == 0, result.output
    cells = _cells(out.read_text(encoding="utf-8"))
    assert cells >= EXPECTED and not {c for c in cells if c and c[0] in "=+-@"}


def test_billing_downloads_are_no_store_with_one_charset(client: Any, world: World) -> None:
    client.login("admin")
    report_csv = client.get("/hsa/rapport.csv")
    assert report_csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert report_csv.headers["Cache-Control"] == "no-store"
    xlsx = client.get("/hsa/rapport.xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["Cache-Control"] == "no-store"


def test_api_json_to_a_bearer_token_is_no_store(app: Any, client: Any, world: World) -> None:
    client.login("card_admin")
    token = _make_token(client)
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"


def test_fullwidth_starts_are_neutralised_and_xlsx_numbers_stay_numeric(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from cardadmin import spreadsheet

    for text in ("\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(1)"):
        assert spreadsheet.neutralise(text) == "'" + text
    assert spreadsheet.csv_row(["-2+3", -5, None]) == ["'-2+3", -5, None]
    path = tmp_path / "x.xlsx"
    spreadsheet.write_xlsx(str(path), [("Blad", ["A", "B"], iter([["@SUM(1)", -5]]))])
    sheet = load_workbook(path, read_only=True)["Blad"]
    assert [c.value for c in next(sheet.iter_rows(min_row=2))] == ["'@SUM(1)", -5]


def test_time_export_downloads_are_no_store_with_one_charset(client: Any, world: World) -> None:
    client.login("admin")
    for fmt, kind in (("csv", "text/csv; charset=utf-8"), ("xlsx", "application/vnd.openxmlformats")):
        response = client.get(f"/utvardering/export?format={fmt}")
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(kind)
        assert response.headers["Content-Type"].count("charset") <= 1
        assert response.headers["Cache-Control"] == "no-store"
