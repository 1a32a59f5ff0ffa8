"""Suggestions from the day's work: from the user's own audit rows, nothing booked until confirmed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from cardadmin import audit
from cardadmin.accounts import service as accounts
from cardadmin.db import db
from cardadmin.orders import support
from cardadmin.orders.states import Status
from cardadmin.timelog import service
from cardadmin.timelog.models import TimeEntry
from cardadmin.timelog.suggestions import suggest
from tests.test_orders_service import order_for, to_status
from tests.timelog_fixtures import build_pilot


@pytest.fixture
def pilot(app_ctx, world):
    p = build_pilot(world)
    today = service.today()
    year, week, _ = today.isocalendar()
    accounts.save_pilot_period(p.users["admin"], None, desk_id=world.desk_id, name="Denna vecka", year=year,
                               week_from=week, week_to=week)
    service.save_distance(p.users["admin"], desk_id=world.desk_id, unit_id=None, km="240", label="Lycksele–Umeå")
    db.session.commit()
    return p


def test_hand_overs_support_and_hsa_acts_become_suggestions(pilot):
    w, clerk = pilot.world, pilot.users["card_admin"]
    for n in (1, 2):
        to_status(w, order_for(w, f"P{n}"), Status.HANDED_OVER, card_number=f"97520000000{n}")
    support.open_support_case(clerk, support.SupportInput(kind="pin_puk", channel="phone", minutes_spent=25,
                                                         description="PIN spärrad"))
    # HSA acts are built elsewhere; any action under "hsa." counts as HSA entry work.
    audit.record(db.session, clerk, "hsa.entry.create", "hsa_entry", 1, {}, organisation_id=w.region_id)
    audit.record(db.session, pilot.users["admin"], "hsa.entry.create", "hsa_entry", 2, {})  # not mine
    db.session.commit()
    entries_before = db.session.scalar(select(func.count()).select_from(TimeEntry))
    found = {item.activity_name: item for _key, item in suggest(clerk, service.today())}
    assert db.session.scalar(select(func.count()).select_from(TimeEntry)) == entries_before  # nothing booked
    handover = found["Id-kontroll och utlämning"]
    assert handover.persons == 2 and handover.minutes == 30 and handover.journeys == 2
    assert handover.km == 480 and handover.organisation_id == w.region_id and handover.desk_id == w.desk_id
    assert found["PIN/PUK och support"].minutes == 25
    assert found["HSA-registrering"].persons == 1
    assert "Kortlager" in found  # at_desk registration

    key, item = next((k, s) for k, s in suggest(clerk, service.today()) if s.activity_name == handover.activity_name)
    service.create_entry(clerk, service.EntryInput(
        work_date=service.today(), desk_id=item.desk_id, activity_id=item.activity_id,
        organisation_id=item.organisation_id, duration=item.minutes, persons_handled=item.persons,
        journeys_avoided=item.journeys, km_avoided=item.km, source=key))
    db.session.commit()
    remaining = {s.activity_name for _k, s in suggest(clerk, service.today())}
    assert handover.activity_name not in remaining and "PIN/PUK och support" in remaining
    # A new hand-over after the confirmation is proposed on its own.
    to_status(w, order_for(w, "P3"), Status.HANDED_OVER, card_number="975200000003")
    again = {s.activity_name: s for _k, s in suggest(clerk, service.today())}
    assert again[handover.activity_name].persons == 1


def test_no_acts_no_suggestions(pilot):
    assert suggest(pilot.users["card_admin"], date(2026, 9, 7)) == []
