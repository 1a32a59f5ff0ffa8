"""Suggestions from the day's work: the user's own acts in the audit log, grouped into proposed entries.

The audit log is the single source: every hand-over, approval, HSA change and support case is there with its
actor and time. Acts are grouped by activity and organisation; each group proposes a duration (a configured
number of minutes per act, or the minutes a support case recorded). Nothing is booked: the user confirms or
edits each one, and the confirmed entry carries ``source = "audit:<activity>:<organisation>:<last seq>"`` so the
same acts are not proposed again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from cardadmin.accounts.models import Desk, User
from cardadmin.audit.models import AuditEvent
from cardadmin.db import db
from cardadmin.people.models import Person
from cardadmin.timefmt import LOCAL, local_day_end, local_day_start
from cardadmin.timelog.models import TimeEntry
from cardadmin.timelog.service import activity_by_code, default_km

# action (exact, or a prefix ending in ".") → (activity code, minutes per act)
ACTION_ACTIVITY: dict[str, tuple[str, int]] = {
    "order.hand_over": ("identity_handover", 15),
    "order.approve": ("order_handling", 5),
    "order.reject": ("order_handling", 5),
    "order.in_production": ("order_handling", 5),
    "order.at_desk": ("card_stock", 5),
    "card.revoke": ("revocation", 10),
    "support_case.create": ("pin_puk_support", 10),
    "hsa.": ("hsa_entry", 10),  # every HSA act (hsa.entry.create, hsa.entry.update, …) once they exist
}


def _mapping(action: str) -> tuple[str, int] | None:
    if action in ACTION_ACTIVITY:
        return ACTION_ACTIVITY[action]
    for key, value in ACTION_ACTIVITY.items():
        if key.endswith(".") and action.startswith(key):
            return value
    return None


@dataclass
class Suggestion:
    activity_id: int
    activity_name: str
    organisation_id: int | None
    desk_id: int | None
    minutes: int = 0
    persons: int = 0
    journeys: int = 0
    km: Decimal = Decimal("0")
    first: str = ""  # local HH:MM of the first act
    last_seq: int = 0
    actions: list[str] = field(default_factory=list)


def _confirmed(user_id: int, day: date) -> dict[str, int]:
    """Per "activity:organisation" prefix, the highest audit seq already booked from a suggestion."""
    done: dict[str, int] = {}
    for source in db.session.scalars(select(TimeEntry.source).where(
            TimeEntry.user_id == user_id, TimeEntry.work_date == day, TimeEntry.source.startswith("audit:"))):
        prefix, _, seq = source.rpartition(":")
        if seq.isdigit():
            done[prefix] = max(done.get(prefix, 0), int(seq))
    return done


def suggest(user: User, day: date) -> list[tuple[str, Suggestion]]:
    """Proposed entries for ``day`` from ``user``'s own acts; returns (source key, suggestion) pairs."""
    rows = db.session.execute(
        select(AuditEvent.seq, AuditEvent.at, AuditEvent.action, AuditEvent.organisation_id, AuditEvent.data)
        .where(AuditEvent.actor_id == user.id, AuditEvent.at >= local_day_start(day),
               AuditEvent.at < local_day_end(day))
        .order_by(AuditEvent.seq))
    my_desks = [d.id for d in user.desks]
    regional = {d.id for d in db.session.scalars(select(Desk).where(Desk.is_regional.is_(True)))}
    done = _confirmed(user.id, day)
    groups: dict[str, tuple[str, Suggestion]] = {}
    for seq, at, action, org_id, raw in rows:
        mapped = _mapping(action)
        if mapped is None:
            continue
        code, per_act = mapped
        data = json.loads(raw)
        if action == "support_case.create" and data.get("channel") == "service_desk":
            code = "service_desk"
        activity = activity_by_code(code)
        if activity is None or not activity.active:
            continue
        prefix = f"audit:{code}:{org_id or 0}"
        if seq <= done.get(prefix, 0):
            continue
        desk_id = data.get("desk_id") if data.get("desk_id") in my_desks else (my_desks[0] if my_desks else None)
        _key, item = groups.setdefault(prefix, (prefix, Suggestion(
            activity.id, activity.name, org_id, desk_id, first=at.astimezone(LOCAL).strftime("%H:%M"))))
        minutes = data.get("minutes_spent") if action == "support_case.create" else None
        item.minutes += int(minutes) if isinstance(minutes, int) and minutes > 0 else per_act
        item.persons += 1
        item.last_seq = seq
        item.actions.append(action)
        if action == "order.hand_over" and desk_id not in regional:
            item.journeys += 1
            person = db.session.get(Person, data.get("person_id") or 0)
            if desk_id is not None:
                item.km += default_km(desk_id, person.unit_id if person else None)
    return [(f"{prefix}:{item.last_seq}", item) for prefix, item in groups.values()]
