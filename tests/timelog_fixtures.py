"""A pilot on top of the shared test world: pilot periods, activities, a second card administrator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cardadmin.accounts import service as accounts
from cardadmin.db import db
from cardadmin.roles import Role
from cardadmin.timelog import service
from cardadmin.timelog.service import EntryInput
from tests.conftest import PASSWORD, World

PILOT_YEAR = 2026  # V.37–43 lies in the past of the test clock's "today" only if today is after it
MONDAY_W37 = date.fromisocalendar(PILOT_YEAR, 37, 1)


@dataclass
class Pilot:
    world: World
    period_id: int
    activities: dict[str, int]
    users: dict[str, Any]


def build_pilot(world: World) -> Pilot:
    admin = world.users["admin"]
    period = accounts.save_pilot_period(admin, None, desk_id=world.desk_id, name="Pilot Lycksele",
                                        year=PILOT_YEAR, week_from=37, week_to=43)
    # Week 53 and the year boundary: 2020 had 53 ISO weeks (2020-12-28 … 2021-01-03).
    accounts.save_pilot_period(admin, None, desk_id=world.desk_id, name="Vinterpilot", year=2020,
                               week_from=52, week_to=53)
    service.seed_activities()
    second = accounts.create_user(admin, accounts.UserInput(
        "card_admin2", "Card Admin Två", roles=[Role.CARD_ADMIN, Role.EVALUATOR],
        organisation_id=world.municipality_id, desk_ids=[world.desk_id]), PASSWORD)
    db.session.commit()
    from sqlalchemy import select

    from cardadmin.timelog.models import Activity

    acts = {a.code: a.id for a in db.session.scalars(select(Activity))}
    return Pilot(world, period.id, acts, {**world.users, "card_admin2": second})


def entry(pilot: Pilot, **overrides: Any) -> EntryInput:
    values: dict[str, Any] = {
        "work_date": MONDAY_W37, "desk_id": pilot.world.desk_id, "activity_id": pilot.activities["identity_handover"],
        "organisation_id": pilot.world.region_id, "start": "08:00", "end": "09:30", "persons_handled": 3,
    }
    values.update(overrides)
    return EntryInput(**values)
