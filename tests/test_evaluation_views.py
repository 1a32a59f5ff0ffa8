"""Dashboard, monthly statistics, evaluation pack and exports through the pages (evaluators may export)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import openpyxl
import pytest

from cardadmin.db import db
from cardadmin.evaluation import figures, settings
from cardadmin.timelog import money, service, sheets
from tests.timelog_fixtures import MONDAY_W37, build_pilot, entry


@pytest.fixture
def pilot(app, world):
    with app.app_context():
        p = build_pilot(world)
        clerk = p.users["card_admin"]
        for n, minutes in enumerate([30, 45, 60]):
            service.create_entry(clerk, entry(p, work_date=MONDAY_W37 + timedelta(days=n), start="", end="",
                                              duration=minutes, journeys_avoided=1, km_avoided="240",
                                              note="-minus först" if n == 0 else ""))
        sheet = sheets.submit(clerk, 2026, 37)
        sheets.approve(p.users["evaluator"], sheet.id)
        money.save_rate(p.users["admin"], None, organisation_id=world.municipality_id, valid_from=date(2026, 1, 1),
                        valid_to=date(2026, 12, 31), rate="400", on_cost_percent="40")
        settings.save_risk(p.users["evaluator"], None, area="resources", title="Få korthandläggare",
                           likelihood=3, consequence=3)
        settings.add_observation(p.users["card_admin"], category="service", text="Kortare kö", desk_id=world.desk_id)
        db.session.commit()
        return p


def test_dashboard_and_monthly_pages(client, pilot):
    client.login("evaluator")
    page = client.get("/utvardering/").get_data(as_text=True)
    assert "Kortutlämning Lycksele" in page and "Alla pilotorter" in page and "<svg" in page
    assert 'class="total-hours">2,3<' in page and 'class="total-km">720' in page
    assert "<script>" not in page
    monthly = client.get("/utvardering/manad?ar=2026").get_data(as_text=True)
    assert "Lycksele kommun" in monthly and "2026-09" in monthly and "1\u00a0260,00" in monthly  # 2.25 h × 400 × 1.4


def test_pack_page_and_xlsx_download_agree_with_the_dashboard(app, client, pilot, tmp_path):
    client.login("evaluator")
    page = client.get("/utvardering/paket").get_data(as_text=True)
    assert "Få korthandläggare" in page and "Kortare kö" in page and "1\u00a0260,00 kr" in page
    response = client.get("/utvardering/paket.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    path = tmp_path / "pack.xlsx"
    path.write_bytes(response.get_data())
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["Sammanfattning", "Per vecka", "Per aktivitet", "Per organisation", "Tidsposter"]
    summary = {row[0]: row[1] for row in book["Sammanfattning"].iter_rows(values_only=True)}
    raw = list(book["Tidsposter"].iter_rows(values_only=True))[1:]
    with app.app_context():
        _sites, combined = figures.dashboard(2026)
        assert summary["Rapporterad tid (timmar)"] == combined.total.hours == sum(r[5] for r in raw) / 60
    assert any(r[16] == "'-minus först" for r in raw)
    csv_response = client.get("/utvardering/paket.csv")
    rows = list(csv.reader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 4 and sum(int(r[5]) for r in rows[1:]) == 135


def test_export_page_filters_and_downloads(app, client, pilot):
    client.login("evaluator")
    page = client.get("/utvardering/export?status=approved").get_data(as_text=True)
    assert "<strong>3</strong> poster" in page
    assert "<strong>0</strong> poster" in client.get("/utvardering/export?status=submitted").get_data(as_text=True)
    body = client.get("/utvardering/export?format=csv&bom=1&status=approved").get_data()
    assert body.startswith("\ufeff".encode())
    with app.app_context():
        from sqlalchemy import select

        from cardadmin.audit.models import AuditEvent

        row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "time_entry.export")).one()
        assert row.actor_name == "evaluator" and '"rows":3' in row.data and '"status":"approved"' in row.data
    xlsx = client.get("/utvardering/export?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    bad = client.get("/utvardering/export?from=not-a-date")
    assert bad.status_code == 400 and "ÅÅÅÅ-MM-DD" in bad.get_data(as_text=True)
    # A filter that is no id is refused, not ignored (ignoring it would export everything in scope).
    for query in ("desk_id=abc", "user_id=12x", "organisation_id=-1"):
        wrong = client.get(f"/utvardering/export?format=csv&{query}")
        assert wrong.status_code == 400 and "Ogiltigt val i filtret" in wrong.get_data(as_text=True), query


def test_the_dashboards_are_the_evaluations_not_an_ra_officers(new_client, pilot):
    """They show every municipality's hours and money; an RA officer exports their own municipality instead."""
    ra = new_client()
    ra.login("ra_officer")
    for path in ("/utvardering/", "/utvardering/manad"):
        assert ra.get(path).status_code == 403, path
    assert ra.get("/utvardering/export").status_code == 200


def test_inputs_are_edited_and_bad_input_is_a_message(client, pilot):
    client.login("evaluator")
    assert client.post_form("/utvardering/installningar/faktorer", {"cost_per_km": "3,10"}).status_code == 302
    assert 'value="3,1"' in client.get("/utvardering/installningar").get_data(as_text=True)
    client.post_form("/utvardering/installningar/priser", {"item": "card", "valid_from": "2026-01-01",
                                                            "valid_to": "2025-01-01", "price": "10"})
    page = client.get("/utvardering/installningar").get_data(as_text=True)
    assert "från-datum före till-datum" in page and "Inga priser." in page


def test_chart_is_escaped_svg_with_a_text_alternative():
    from cardadmin.evaluation.charts import bar_chart

    svg = str(bar_chart("Timmar <per> vecka", ["v.37", "v.38"], [("A&B", [1.5, 0]), ("C", [2, 1])], unit=" h"))
    assert svg.startswith("<svg") and "<script" not in svg and "style=" not in svg
    assert "Timmar &lt;per&gt; vecka: v.37: 3,5 h; v.38: 1 h" in svg and "A&amp;B" in svg
    assert svg.count("<rect") == 3 + 2  # three non-empty bar segments and two legend keys


def test_a_packs_time_entries_are_its_pilot_years_only(app, client, pilot):
    """The 2021 pack lists the 2021 pilot's entries, not the 2020 winter pilot's last days (ISO week 53 of 2020
    ends on 3 January 2021), which a date window around the year took in."""
    with app.app_context():
        from cardadmin.accounts import service as accounts

        accounts.save_pilot_period(pilot.users["admin"], None, desk_id=pilot.world.desk_id, name="Pilot 2021",
                                   year=2021, week_from=1, week_to=5)
        clerk = pilot.users["card_admin"]
        for day in (date(2020, 12, 28), date(2021, 1, 12)):
            service.create_entry(clerk, entry(pilot, work_date=day, start="", end="", duration=10))
        db.session.commit()
    client.login("evaluator")
    rows = list(csv.reader(io.StringIO(client.get("/utvardering/paket.csv?ar=2021").get_data(as_text=True)
                                       .lstrip("\ufeff")), delimiter=";"))
    assert [(r[1], r[10]) for r in rows[1:]] == [("2021-01-12", "Pilot 2021")]


def test_pack_shows_assumptions_and_sums_as_people_write_them(app, client, pilot):
    """Stored assumptions come back as 450.0000; the pack showed them as 4.5E+2. Sums have a decimal comma and a
    no-break space between thousands."""
    with app.app_context():
        evaluator = db.session.merge(pilot.users["evaluator"])
        settings.set_factor(evaluator, "cost_per_staff_hour", "450")
        settings.set_factor(evaluator, "travel_kmh", "70")
        settings.set_factor(evaluator, "cost_per_km", "2,5")
        db.session.commit()
    client.login("evaluator")
    page = client.get("/utvardering/paket").get_data(as_text=True)
    assert "E+" not in page and "(kr): 450</li>" in page and "(km/h): 70</li>" in page and ": 2,5</li>" in page
    assert "<td>1\u00a0260,00</td>" in page  # the reimbursement table: öre after a comma, thousands apart
    inputs = client.get("/utvardering/installningar").get_data(as_text=True)
    assert 'value="450"' in inputs and "E+" not in inputs


def test_export_defaults_suit_swedish_excel_and_a_bad_filter_shows_the_form_again(client, pilot):
    client.login("evaluator")
    page = client.get("/utvardering/export").get_data(as_text=True)
    assert 'name="bom" value="1" checked' in page and 'name="semikolon" value="1" checked' in page
    body = client.get("/utvardering/export?format=csv").get_data(as_text=True)  # the defaults: as Excel reads it
    assert body.startswith("\ufeff") and ";" in body.splitlines()[0]
    plain = client.get("/utvardering/export?valt=1&format=csv").get_data(as_text=True)  # both boxes unticked
    assert not plain.startswith("\ufeff") and ";" not in plain.splitlines()[0]
    bad = client.get(f"/utvardering/export?desk_id={pilot.world.desk_id}&status=approved&from=2026-10-01"
                     "&to=2026-09-01&format=csv")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="export-filters"' in text and "Från-datum ligger efter till-datum" in text
    assert 'value="2026-10-01"' in text and 'value="2026-09-01"' in text and 'value="approved" selected' in text
    assert f'<option value="{pilot.world.desk_id}" selected>' in text and "Urvalet:" not in text
    wrong_date = client.get("/utvardering/export?from=1.10.2026").get_data(as_text=True)
    assert "Från ska vara ett datum ÅÅÅÅ-MM-DD" in wrong_date and 'value="1.10.2026"' in wrong_date
