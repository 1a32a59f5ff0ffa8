"""The weekly timesheet: submit → approve → locked → reopen with a reason; never self-approval."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from cardadmin.audit.models import AuditEvent
from cardadmin.db import db
from cardadmin.errors import Conflict, Forbidden, InvalidInput
from cardadmin.timelog import service, sheets
from cardadmin.timelog.models import TimeEntry
from tests.timelog_fixtures import build_pilot, entry


@pytest.fixture
def pilot(app_ctx, world):
    return build_pilot(world)


def _submitted(pilot, user="card_admin"):
    clerk = pilot.users[user]
    service.create_entry(clerk, entry(pilot))
    sheet = sheets.submit(clerk, 2026, 37)
    db.session.commit()
    return sheet


def _actions():
    return [(r.action, r.actor_name) for r in db.session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "timesheet").order_by(AuditEvent.seq))]


def test_submit_approve_lock_reopen(pilot):
    sheet = _submitted(pilot)
    assert sheet.status == "submitted"
    with pytest.raises(Conflict, match="inskickad"):
        service.create_entry(pilot.users["card_admin"], entry(pilot, start="12:00", end="13:00"))
    sheets.approve(pilot.users["evaluator"], sheet.id)
    db.session.commit()
    assert sheet.status == "approved" and sheet.approved_by_id == pilot.users["evaluator"].id
    clerk = pilot.users["card_admin"]
    entry_id = db.session.scalar(select(TimeEntry.id))
    entries_before = db.session.scalar(select(func.count()).select_from(TimeEntry))
    for attempt in (lambda: service.create_entry(clerk, entry(pilot, start="12:00", end="13:00")),
                    lambda: service.update_entry(clerk, entry_id, entry(pilot, start="12:00", end="13:00")),
                    lambda: service.delete_entry(clerk, entry_id)):
        with pytest.raises(Conflict, match="låst"):
            attempt()
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(TimeEntry)) == entries_before
    with pytest.raises(Forbidden):
        sheets.reopen(clerk, sheet.id, "Jag glömde en post")  # the author cannot unlock an approved week
    with pytest.raises(InvalidInput, match="(?i)motivering"):
        sheets.reopen(pilot.users["evaluator"], sheet.id, "")
    sheets.reopen(pilot.users["evaluator"], sheet.id, "Fel aktivitet på måndagen")
    db.session.commit()
    assert sheet.status == "open" and sheet.approved_by_id is None
    service.create_entry(clerk, entry(pilot, start="12:00", end="13:00"))
    assert _actions() == [("timesheet.submit", "card_admin"), ("timesheet.approve", "evaluator"),
                          ("timesheet.reopen", "evaluator")]
    reopen = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "timesheet.reopen")).one()
    assert json.loads(reopen.data)["reason"] == "Fel aktivitet på måndagen"


def test_self_approval_is_refused_even_for_an_evaluator(pilot):
    sheet = _submitted(pilot, "card_admin2")  # card_admin2 is also an evaluator
    with pytest.raises(Forbidden, match="egen"):
        sheets.approve(pilot.users["card_admin2"], sheet.id)
    db.session.rollback()
    assert sheet.status == "submitted"
    assert sheet not in sheets.to_approve(pilot.users["card_admin2"])


def test_ra_officer_of_the_municipality_approves_the_region_ra_does_not(pilot):
    sheet = _submitted(pilot)
    assert sheets.to_approve(pilot.users["ra_officer"]) == []
    with pytest.raises(Exception, match="finns inte|godkänna"):
        sheets.approve(pilot.users["ra_officer"], sheet.id)  # region RA: not the author's municipality
    db.session.rollback()
    assert sheets.to_approve(pilot.users["ra_kommun"]) == [sheet]
    sheets.approve(pilot.users["ra_kommun"], sheet.id)
    assert sheet.status == "approved"


def test_empty_week_cannot_be_submitted_and_twice_is_a_conflict(pilot):
    with pytest.raises(InvalidInput, match="inga tidsposter"):
        sheets.submit(pilot.users["card_admin"], 2026, 38)
    sheet = _submitted(pilot)
    with pytest.raises(Conflict):
        sheets.submit(pilot.users["card_admin"], 2026, 37)
    sheets.approve(pilot.users["evaluator"], sheet.id)
    with pytest.raises(Conflict):
        sheets.approve(pilot.users["ra_kommun"], sheet.id)


def test_author_may_withdraw_a_submitted_week(pilot):
    sheet = _submitted(pilot)
    sheets.reopen(pilot.users["card_admin"], sheet.id, "Glömde eftermiddagen")
    assert sheet.status == "open"
    with pytest.raises(Conflict, match="redan öppen"):
        sheets.reopen(pilot.users["card_admin"], sheet.id, "Glömde eftermiddagen")


@pytest.mark.postgres
def test_an_entry_racing_the_submission_of_its_week_is_in_it_or_refused(make_app, app):
    """Two tabs: one adds an entry while the other submits the week. Both lock the timesheet row, so either
    the entry lands first and the submission counts it, or the submission wins and the entry is refused."""
    import threading

    from cardadmin.accounts.models import User
    from cardadmin.audit.models import AuditEvent
    from cardadmin.errors import CardAdminError
    from tests.conftest import build_world

    with app.app_context():
        pilot = build_pilot(build_world())
        service.create_entry(pilot.users["card_admin"], entry(pilot))
        db.session.commit()
        clerk_id = pilot.users["card_admin"].id
    apps = [app, make_app()]
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def act(index: int) -> None:
        with apps[index].app_context():
            actor = db.session.get(User, clerk_id)
            barrier.wait(timeout=10)
            try:
                if index == 0:
                    service.create_entry(actor, entry(pilot, start="13:00", end="14:00"))
                else:
                    sheets.submit(actor, 2026, 37)
                db.session.commit()
                outcome[str(index)] = "ok"
            except CardAdminError as exc:
                db.session.rollback()
                outcome[str(index)] = type(exc).__name__

    threads = [threading.Thread(target=act, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcome["1"] == "ok" and outcome["0"] in ("ok", "Conflict"), outcome
    with app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(TimeEntry))
        submitted = json.loads(db.session.scalars(select(AuditEvent.data).where(
            AuditEvent.action == "timesheet.submit")).one())
        assert submitted["entries"] == entries == (2 if outcome["0"] == "ok" else 1)
