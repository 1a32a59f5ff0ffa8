"""The time screens: log, refuse bad input with a Swedish message (400, nothing stored), submit, approve."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cardadmin.db import db
from cardadmin.timelog.models import TimeEntry, Timesheet
from tests.timelog_fixtures import MONDAY_W37, build_pilot


@pytest.fixture
def pilot(app, world):
    with app.app_context():
        return build_pilot(world)


def _form(pilot, **overrides):
    data = {"work_date": MONDAY_W37.isoformat(), "start": "08:00", "end": "09:00", "duration": "",
            "desk_id": pilot.world.desk_id, "activity_id": pilot.activities["identity_handover"],
            "organisation_id": pilot.world.region_id, "persons_handled": "2", "journeys_avoided": "",
            "km_avoided": "", "note": ""}
    data.update(overrides)
    return data


def _count(app, model=TimeEntry):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_log_submit_approve_through_the_pages(app, client, new_client, pilot):
    client.login("card_admin")
    page = client.get("/tid/?vecka=2026-W37")
    assert page.status_code == 200 and "vecka 37 2026" in page.get_data(as_text=True)
    response = client.post_form("/tid/", _form(pilot))
    assert response.status_code == 302 and "2026-W37" in response.headers["Location"]
    bad = client.post_form("/tid/", _form(pilot, start="08:30", end="10:30"))
    assert bad.status_code == 409 and "överlappar" in bad.get_data(as_text=True)
    bad = client.post_form("/tid/", _form(pilot, start="10:00", end="09:00"))
    assert bad.status_code == 400 and "före starttiden" in bad.get_data(as_text=True)
    assert _count(app) == 1
    assert client.post_form("/tid/skicka-in", {"vecka": "2026-W37"}).status_code == 302
    assert _count(app, Timesheet) == 1
    with app.app_context():
        sheet_id = db.session.scalar(select(Timesheet.id))
    locked = client.post_form("/tid/", _form(pilot, start="12:00", end="13:00"))
    assert locked.status_code == 409 and "inskickad" in locked.get_data(as_text=True)

    evaluator = new_client()
    evaluator.login("evaluator")
    queue = evaluator.get("/tid/attest").get_data(as_text=True)
    assert "Card_Admin" in queue and "v.37 2026" in queue
    assert evaluator.post_form(f"/tid/tidrapporter/{sheet_id}/godkann").status_code == 302
    with app.app_context():
        assert db.session.get(Timesheet, sheet_id).status == "approved"
    assert "Godkänd (låst)" in client.get("/tid/?vecka=2026-W37").get_data(as_text=True)
    page = client.get(f"/tid/tidrapporter/{sheet_id}")
    assert page.status_code == 200 and "Öppna igen" not in page.get_data(as_text=True)


def test_bad_week_argument_is_a_message_not_an_error(client, pilot):
    client.login("card_admin")
    response = client.get("/tid/?vecka=2026-W99")
    assert response.status_code == 200 and "ÅÅÅÅ-Wvv" in response.get_data(as_text=True)


def test_someone_elses_entry_is_not_found(app, client, new_client, pilot):
    client.login("card_admin")
    client.post_form("/tid/", _form(pilot))
    with app.app_context():
        entry_id = db.session.scalar(select(TimeEntry.id))
    other = new_client()
    other.login("card_admin2")
    assert other.get(f"/tid/poster/{entry_id}").status_code == 404
    assert other.post_form(f"/tid/poster/{entry_id}/ta-bort").status_code == 404
    assert _count(app) == 1


def test_admin_edits_activities_rates_and_distances(app, client, pilot):
    client.login("admin")
    assert client.get("/admin/tid/").status_code == 200
    client.post_form("/admin/tid/aktiviteter", {"name": "Kortskrivare", "active": "1", "sort_order": "20"})
    client.post_form("/admin/tid/timpriser", {"organisation_id": pilot.world.municipality_id,
                                              "valid_from": "2026-01-01", "valid_to": "2026-12-31",
                                              "rate": "420,50", "on_cost_percent": "38,5"})
    client.post_form("/admin/tid/avstand", {"desk_id": pilot.world.desk_id, "unit_id": "", "km": "240",
                                            "label": "Lycksele–Umeå"})
    page = client.get("/admin/tid/").get_data(as_text=True)
    assert "Kortskrivare" in page and "420,50" in page and "Lycksele–Umeå" in page
    bad = client.post_form("/admin/tid/timpriser", {"organisation_id": pilot.world.municipality_id,
                                                    "valid_from": "2026-06-01", "valid_to": "2026-07-01",
                                                    "rate": "1", "on_cost_percent": "0"}, follow_redirects=True)
    assert "redan ett timpris" in bad.get_data(as_text=True)
    typo = client.post_form("/admin/tid/timpriser", {"organisation_id": pilot.world.municipality_id,
                                                     "valid_from": "2026-13-01", "valid_to": "2026-07-01",
                                                     "rate": "1", "on_cost_percent": "0"}, follow_redirects=True)
    assert "Från ska vara ett datum ÅÅÅÅ-MM-DD" in typo.get_data(as_text=True)  # not "from before to"


@pytest.mark.parametrize(("today", "opens_on"), [
    ("2026-11-24", "vecka 43 2026"),  # after the pilot: its last week, not this week outside it
    ("2026-09-16", "vecka 38 2026"),  # during the pilot: this week
    ("2026-08-03", "vecka 32 2026"),  # before any pilot: this week
])
def test_time_page_opens_on_a_pilot_week_and_has_a_week_picker(app, client, pilot, monkeypatch, today, opens_on):
    from datetime import date

    from cardadmin.timelog import service

    monkeypatch.setattr(service, "today", lambda: date.fromisoformat(today))
    client.login("card_admin")
    page = client.get("/tid/").get_data(as_text=True)
    assert opens_on in page
    assert 'type="week" id="vecka" name="vecka"' in page and "v.37–43 2026" in page
    assert "vecka 41 2026" in client.get("/tid/?vecka=2026-W41").get_data(as_text=True)


def test_start_page_lists_timesheets_to_approve_as_the_queue_does(app, client, pilot):
    """'Att göra' counts the weeks waiting in the approver's own queue: the evaluator sees both card
    administrators' weeks, the municipality's RA officer their staff's, the region's RA officer none of them,
    and card_admin2 (also an evaluator) not their own."""
    import re
    from datetime import timedelta

    from cardadmin.timelog import service, sheets
    from tests.timelog_fixtures import entry

    with app.app_context():
        for name in ("card_admin", "card_admin2"):
            clerk = db.session.merge(pilot.users[name])
            for n, monday in enumerate((MONDAY_W37, MONDAY_W37 + timedelta(weeks=1))):
                service.create_entry(clerk, entry(pilot, work_date=monday, start=f"0{8 + n}:00", end=f"0{8 + n}:30"))
                sheets.submit(clerk, *monday.isocalendar()[:2])
        db.session.commit()

    def waiting(user):
        client.login(user)
        page = client.get("/").get_data(as_text=True)
        found = re.search(r'href="/tid/attest"><strong class="count">(\d+)</strong> Tidrapporter att attestera', page)
        return int(found[1]) if found else None

    assert waiting("evaluator") == 4 and waiting("ra_kommun") == 4
    assert waiting("card_admin2") == 2  # not their own two
    assert waiting("ra_officer") == 0  # the region's RA approves no municipal staff's time
    assert waiting("card_admin") is None and waiting("orderer") is None  # not approvers


def test_a_day_outside_the_week_shown_is_not_taken(app, client, pilot):
    """?dag= outside the week shown falls back to the week's own day: year 1 overflowed the Stockholm-to-UTC
    conversion of the day's suggestions, and another week's day filled in the form below this week."""
    client.login("card_admin")
    for query in ("vecka=2026-W37&dag=0001-01-01", "vecka=2026-W37&dag=2020-01-01"):
        page = client.get(f"/tid/?{query}")
        assert page.status_code == 200 and "vecka 37 2026" in page.get_data(as_text=True)
        assert "2020-01-01" not in page.get_data(as_text=True)
