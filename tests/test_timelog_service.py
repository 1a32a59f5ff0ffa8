"""Time entries: every bad-input rule leaves nothing changed; every act writes its audit row."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from cardadmin.audit.models import AuditEvent
from cardadmin.db import db
from cardadmin.errors import Conflict, Forbidden, InvalidInput
from cardadmin.timelog import service, sheets
from cardadmin.timelog.models import TimeEntry, Timesheet
from tests.timelog_fixtures import MONDAY_W37, build_pilot, entry


@pytest.fixture
def pilot(app_ctx, world):
    return build_pilot(world)


def _counts():
    """Counted in the same transaction: a row the service flushed before refusing would show here."""
    db.session.flush()
    return (db.session.scalar(select(func.count()).select_from(TimeEntry)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


def _audit(action):
    rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))
    return rows, [json.loads(r.data) for r in rows]


def test_create_entry_from_start_and_end_writes_audit_row(pilot):
    clerk = pilot.users["card_admin"]
    row = service.create_entry(clerk, entry(pilot, note="Kö på morgonen"))
    db.session.commit()
    assert row.minutes == 90 and (row.iso_year, row.iso_week) == (2026, 37)
    assert row.pilot_period_id == pilot.period_id
    rows, data = _audit("time_entry.create")
    assert len(rows) == 1 and rows[0].actor_name == "card_admin" and rows[0].target_id == str(row.id)
    assert data[0]["minutes"] == 90 and data[0]["start"] == "08:00" and data[0]["week"] == "2026-W37"
    assert rows[0].organisation_id == pilot.world.municipality_id  # the municipality's RA can follow it


def test_duration_only_entry(pilot):
    row = service.create_entry(pilot.users["card_admin"], entry(pilot, start="", end="", duration="1:15"))
    assert row.minutes == 75 and row.start_time is None
    row = service.create_entry(pilot.users["card_admin"], entry(pilot, start="", end="", duration="45"))
    assert row.minutes == 45


@pytest.mark.parametrize(("overrides", "message"), [
    ({"start": "09:00", "end": "09:00"}, "längre än noll"),
    ({"start": "10:00", "end": "09:00"}, "före starttiden"),
    ({"start": "", "end": "", "duration": "0"}, "längre än noll"),
    ({"start": "", "end": "", "duration": "-30"}, "längre än noll"),
    ({"start": "", "end": "", "duration": "25:00"}, "24 timmar"),
    ({"start": "", "end": "", "duration": ""}, "Ange start- och sluttid"),
    ({"start": "8", "end": "9:00"}, "TT:MM"),
    ({"start": "08:00", "end": ""}, "både start- och sluttid"),
    ({"work_date": date.fromisocalendar(2026, 36, 7)}, "utanför"),  # the Sunday before the pilot
    ({"work_date": date.fromisocalendar(2026, 44, 1)}, "utanför"),
    ({"work_date": None}, "Ange datum"),
    ({"activity_id": 999}, "aktivitet"),
    ({"organisation_id": 999}, "organisations"),
    ({"persons_handled": "-1"}, "heltal"),
    ({"km_avoided": "abc"}, "tal"),
    ({"note": "Gällde 19121212-1212 som saknade id"}, "personnummer"),
    ({"note": "Gällde 19121212 1212 som saknade id"}, "personnummer"),
    ({"note": "Gällde 121212\u20131212 som saknade id"}, "personnummer"),
])
def test_bad_input_changes_nothing(pilot, overrides, message):
    before = _counts()
    with pytest.raises(InvalidInput) as info:
        service.create_entry(pilot.users["card_admin"], entry(pilot, **overrides))
    assert message in info.value.message
    assert _counts() == before


def test_future_date_is_refused(pilot, monkeypatch):
    monkeypatch.setattr(service, "today", lambda: MONDAY_W37 + timedelta(days=1))
    service.create_entry(pilot.users["card_admin"], entry(pilot, work_date=MONDAY_W37 + timedelta(days=1)))
    before = _counts()
    with pytest.raises(InvalidInput, match="inte har varit"):
        service.create_entry(pilot.users["card_admin"], entry(pilot, work_date=MONDAY_W37 + timedelta(days=2)))
    assert _counts() == before


def test_overlap_is_refused_but_adjacent_is_fine(pilot):
    clerk = pilot.users["card_admin"]
    service.create_entry(clerk, entry(pilot, start="08:00", end="09:30"))
    db.session.commit()
    before = _counts()
    with pytest.raises(Conflict, match="överlappar"):
        service.create_entry(clerk, entry(pilot, start="09:00", end="10:00"))
    assert _counts() == before
    service.create_entry(clerk, entry(pilot, start="09:30", end="10:00"))  # touching, not overlapping
    # Another person's entries never overlap mine.
    service.create_entry(pilot.users["card_admin2"], entry(pilot, start="08:00", end="09:30"))


def test_more_than_24_hours_in_a_day_is_refused(pilot):
    clerk = pilot.users["card_admin"]
    service.create_entry(clerk, entry(pilot, start="", end="", duration="20:00"))
    db.session.commit()
    before = _counts()
    with pytest.raises(InvalidInput, match="24 timmar"):
        service.create_entry(clerk, entry(pilot, start="", end="", duration="4:01"))
    assert _counts() == before
    service.create_entry(clerk, entry(pilot, start="", end="", duration="4:00"))


def test_only_card_admins_at_their_own_desk(pilot):
    with pytest.raises(Forbidden):
        service.create_entry(pilot.users["evaluator"], entry(pilot))
    with pytest.raises(Forbidden, match="dina kortutlämningar"):
        service.create_entry(pilot.users["card_admin"], entry(pilot, desk_id=pilot.world.other_desk_id))


def test_journeys_default_km_from_the_unit_desk_pair(pilot):
    admin, clerk = pilot.users["admin"], pilot.users["card_admin"]
    service.save_distance(admin, desk_id=pilot.world.desk_id, unit_id=None, km="240", label="Lycksele–Umeå")
    row = service.create_entry(clerk, entry(pilot, journeys_avoided=2))
    assert row.km_avoided == Decimal("480")
    row = service.create_entry(clerk, entry(pilot, start="10:00", end="10:30", journeys_avoided=1, km_avoided="95,5"))
    assert row.km_avoided == Decimal("95.5")
    assert len(_audit("journey_distance.save")[0]) == 1
    with pytest.raises(InvalidInput, match="Enheten finns inte"):
        service.save_distance(admin, desk_id=pilot.world.desk_id, unit_id=999_999, km="10")


def test_week_53_and_the_year_boundary(pilot):
    clerk = pilot.users["card_admin"]
    new_year = service.create_entry(clerk, entry(pilot, work_date=date(2021, 1, 1)))  # Friday of 2020-W53
    assert (new_year.iso_year, new_year.iso_week) == (2020, 53)
    december = service.create_entry(clerk, entry(pilot, work_date=date(2020, 12, 28)))
    assert december.timesheet_id == new_year.timesheet_id  # one timesheet for the week across the year boundary
    with pytest.raises(InvalidInput, match="utanför"):
        service.create_entry(clerk, entry(pilot, work_date=date(2021, 1, 4)))  # 2021-W01: no period
    db.session.commit()
    sheets.submit(clerk, 2020, 53)
    assert db.session.get(Timesheet, new_year.timesheet_id).status == "submitted"


def test_update_and_delete_are_audited_and_checked(pilot):
    clerk = pilot.users["card_admin"]
    first = service.create_entry(clerk, entry(pilot))
    second = service.create_entry(clerk, entry(pilot, start="10:00", end="11:00"))
    db.session.commit()
    service.update_entry(clerk, first.id, entry(pilot, start="08:00", end="10:00"))
    rows, data = _audit("time_entry.update")
    assert data[0]["changed"]["minutes"] == [90, 120]
    with pytest.raises(Conflict, match="överlappar"):
        service.update_entry(clerk, second.id, entry(pilot, start="09:00", end="11:00"))
    service.delete_entry(clerk, second.id)
    assert len(_audit("time_entry.delete")[0]) == 1
    with pytest.raises(Exception, match="finns inte"):
        service.update_entry(pilot.users["card_admin2"], first.id, entry(pilot))


def test_weekly_totals_follow_every_change_and_match_a_rebuild(pilot):
    from cardadmin.timelog import sums
    from cardadmin.timelog.models import WeekSum

    def snapshot():
        return sorted((w.timesheet_id, w.desk_id, w.activity_id, w.entries, w.minutes, w.persons_handled,
                       w.journeys_avoided, w.km_avoided) for w in db.session.scalars(select(WeekSum)))

    clerk = pilot.users["card_admin"]
    a = service.create_entry(clerk, entry(pilot, journeys_avoided=1, km_avoided="240"))
    b = service.create_entry(clerk, entry(pilot, start="10:00", end="10:45"))
    service.create_entry(clerk, entry(pilot, work_date=MONDAY_W37 + timedelta(weeks=1)))
    service.update_entry(clerk, b.id, entry(pilot, start="10:00", end="11:00", activity_id=pilot.activities["travel"]))
    service.delete_entry(clerk, a.id)
    kept = snapshot()
    assert [row[3:5] for row in kept] == [(1, 60), (1, 90)]
    assert sums.rebuild() == 2 and snapshot() == kept


@pytest.mark.postgres
@pytest.mark.parametrize("first", ["update", "delete"])
def test_a_removal_racing_a_correction_of_the_same_entry_keeps_the_weekly_totals_right(make_app, app, first):
    """Two tabs on one entry: the first corrects (or removes) it, the second removes it. The second read the
    entry before the first committed; taking away what it read made the week's total negative (or twice
    removed). It must act on the entry as the first left it: the totals equal the entries, never below zero."""
    import threading
    import time

    from cardadmin.accounts.models import User
    from cardadmin.errors import CardAdminError
    from cardadmin.timelog import sums
    from cardadmin.timelog.models import WeekSum
    from tests.conftest import build_world

    with app.app_context():
        pilot = build_pilot(build_world())
        clerk = pilot.users["card_admin"]
        target = service.create_entry(clerk, entry(pilot, start="", end="", duration=60)).id
        service.create_entry(clerk, entry(pilot, start="", end="", duration=10))  # same week, desk, activity
        db.session.commit()
    outcome: dict[str, str] = {}
    second = make_app()

    def remove() -> None:
        with second.app_context():
            try:
                service.delete_entry(db.session.get(User, clerk.id), target)
                db.session.commit()
                outcome["second"] = "ok"
            except CardAdminError as exc:
                db.session.rollback()
                outcome["second"] = type(exc).__name__

    with app.app_context():
        actor = db.session.get(User, clerk.id)
        if first == "update":
            service.update_entry(actor, target, entry(pilot, start="", end="", duration=30))
        else:
            service.delete_entry(actor, target)
        remover = threading.Thread(target=remove)
        remover.start()
        time.sleep(1.0)
        assert remover.is_alive(), "the second tab should wait for the first"
        db.session.commit()
        remover.join(timeout=30)
    assert outcome["second"] == ("ok" if first == "update" else "NotFound"), outcome
    with app.app_context():
        shown = sorted((w.entries, w.minutes) for w in db.session.scalars(select(WeekSum)))
        assert shown == [(1, 10)]
        assert sums.rebuild() == 1 and sorted((w.entries, w.minutes) for w in db.session.scalars(select(WeekSum))) \
            == shown
        assert len(_audit("time_entry.delete")[0]) == 1


def test_recount_command_puts_wrong_weekly_totals_right(pilot, runner):
    """`cardadmin timelog recount` (a database that ran the old add-and-subtract code has wrong totals)."""
    from cardadmin.timelog.models import WeekSum

    clerk = pilot.users["card_admin"]
    service.create_entry(clerk, entry(pilot))
    service.create_entry(clerk, entry(pilot, work_date=MONDAY_W37 + timedelta(weeks=1)))
    db.session.commit()
    first = db.session.scalars(select(WeekSum).order_by(WeekSum.iso_week)).first()
    right = first.minutes
    first.minutes = -20  # as the race left it
    db.session.commit()

    dry = runner.invoke(args=["timelog", "recount", "--dry-run"])
    assert dry.exit_code == 0 and "1 av 2 veckosummor stämmer inte" in dry.output
    db.session.expire_all()
    assert db.session.get(WeekSum, first.id).minutes == -20

    done = runner.invoke(args=["timelog", "recount"])
    assert done.exit_code == 0 and "2 summor, 1 var fel och är rättade" in done.output, done.output
    db.session.expire_all()
    assert sorted(w.minutes for w in db.session.scalars(select(WeekSum))) == sorted([right, 90])
    again = runner.invoke(args=["timelog", "recount"])
    assert "0 var fel" in again.output
