"""The spreadsheet helpers every export shares: formula neutralisation in CSV, text stays text in XLSX."""

from __future__ import annotations

from decimal import Decimal

from openpyxl import load_workbook

from cardadmin import spreadsheet
from cardadmin.hsa.report import BillingRow, csv_lines


def test_neutralise_prefixes_only_formula_starts() -> None:
    for text in ("=1+1", "+46 90 123", "-5", "@SUM(A1)", "\tx"):
        assert spreadsheet.neutralise(text) == "'" + text
    for text in ("Lycksele kommun", "", "1=1", "Öberg"):
        assert spreadsheet.neutralise(text) == text


def test_hsa_billing_csv_neutralises_names() -> None:
    rows = [BillingRow('=HYPERLINK("http://x","klicka")', "2321000222", "2026-09", "månad", created=3)]
    text = "".join(csv_lines(rows))
    assert text.startswith("\ufeff") and "'=HYPERLINK" in text and ";3;0;0" in text


def test_xlsx_keeps_text_as_text_and_numbers_as_numbers(tmp_path) -> None:
    path = tmp_path / "x.xlsx"
    spreadsheet.write_xlsx(str(path), [("Blad", ["Text", "Tal", "Pengar"],
                                        iter([["=1+1", 7, Decimal("12.50")], [None, 2.5, "x"]]))])
    sheet = load_workbook(path, read_only=True)["Blad"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[1] == ["'=1+1", 7, 12.5] and sheet["A2"].data_type == "s"
    assert rows[2] == ["", 2.5, "x"]
