"""Support cases at the desk: PIN blocked / PUK, lost-card reports, questions. Their minutes feed the time log.

Scope: a card administrator sees the cases of their desks, an RA officer those about their organisation's
staff, an admin all; only desk staff (and admins) open and resolve them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from cardadmin import audit
from cardadmin.accounts.models import Desk, User
from cardadmin.db import db, utcnow
from cardadmin.errors import Conflict, Forbidden, InvalidInput, NotFound
from cardadmin.orders.models import SupportCase, SupportChannel, SupportKind
from cardadmin.orders.queries import get_card
from cardadmin.people.models import Person
from cardadmin.people.service import visible_persons
from cardadmin.roles import Role
from cardadmin.security import Grant, require_role, role_scope
from cardadmin.validation import free_text

MAX_MINUTES = 1440


def _support_grants(actor: Any) -> list[Grant]:
    return [(Role.CARD_ADMIN, SupportCase.desk_id.in_([d.id for d in actor.desks])
             | (SupportCase.handled_by_id == actor.id)),
            (Role.RA_OFFICER, SupportCase.organisation_id == actor.organisation_id if actor.organisation_id else None)]


def support_scope(actor: Any) -> ColumnElement[bool]:
    return role_scope(actor, _support_grants)


def visible_cases(actor: Any, *, open_only: bool = False) -> Select[tuple[SupportCase]]:
    stmt = select(SupportCase).where(support_scope(actor)).order_by(SupportCase.created_at.desc(),
                                                                     SupportCase.id.desc())
    return stmt.where(SupportCase.resolved_at.is_(None)) if open_only else stmt


def get_case(actor: Any, case_id: int) -> SupportCase:
    case = db.session.scalar(select(SupportCase).where(SupportCase.id == case_id, support_scope(actor)))
    if case is None:
        raise NotFound("Supportärendet finns inte.")
    return case


def _minutes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MINUTES:
        raise InvalidInput(f"Tidsåtgången ska vara 0–{MAX_MINUTES} minuter.", field="minutes_spent")
    return value


def _time_of_a_resolved_case(total: int) -> int:
    if total > MAX_MINUTES:
        raise InvalidInput(f"Tidsåtgången för ett ärende kan vara högst {MAX_MINUTES} minuter.",
                           field="minutes_spent")
    if total < 1:
        raise InvalidInput("Ange hur lång tid ärendet tog (minst en minut) när det är löst.", field="minutes_spent")
    return total


@dataclass
class SupportInput:
    kind: str
    channel: str
    out_of_hours: bool = False
    description: str = ""
    resolution: str = ""  # given now: the case is resolved at once
    card_id: int | None = None
    person_id: int | None = None
    desk_id: int | None = None
    minutes_spent: int = 0


def open_support_case(actor: User, data: SupportInput) -> SupportCase:
    require_role(actor, Role.CARD_ADMIN, Role.ADMIN)
    try:
        kind, channel = SupportKind(data.kind), SupportChannel(data.channel)
    except ValueError:
        raise InvalidInput("Välj ärendetyp och kanal.", field="kind") from None
    minutes = _minutes(data.minutes_spent)
    my_desks = {d.id for d in actor.desks}
    desk_id = data.desk_id if data.desk_id is not None else (next(iter(my_desks)) if len(my_desks) == 1 else None)
    if desk_id is not None and (db.session.get(Desk, desk_id) is None or
                                (desk_id not in my_desks and not actor.has_role(Role.ADMIN))):
        raise Forbidden("Välj en av dina kortutlämningar.")
    # Linked records are looked up within the user's scope, as everywhere else (one home: queries / people).
    card = get_card(actor, data.card_id) if data.card_id is not None else None
    person = (db.session.scalar(visible_persons(actor).where(Person.id == data.person_id))
              if data.person_id is not None else None)
    if data.person_id is not None and person is None:
        raise NotFound("Personen finns inte.")
    if card is not None and person is None:
        person = card.person
    if card is not None and person is not None and card.person_id != person.id:
        # The case is filed under the person (and seen by their organisation's RA officer): it must be theirs.
        raise InvalidInput("Kortet tillhör en annan person än den som valts.", field="person_hsa_id")
    # A case says what it is about; time may come later, but a case closed says how long it took.
    description = free_text(data.description, "Beskrivning", where="beskrivningen", max_length=4000)
    resolution = free_text(data.resolution, "Åtgärd", where="åtgärden", max_length=4000, required=False)
    if resolution:
        _time_of_a_resolved_case(minutes)
    row = SupportCase(
        kind=str(kind), channel=str(channel), out_of_hours=bool(data.out_of_hours), description=description,
        resolution=resolution, card_id=card.id if card else None, person_id=person.id if person else None,
        desk_id=desk_id, organisation_id=person.organisation_id if person else None, minutes_spent=minutes,
        handled_by_id=actor.id, resolved_at=utcnow() if resolution else None,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(db.session, actor, "support_case.create", "support_case", row.id,
                 {"kind": row.kind, "channel": row.channel, "out_of_hours": row.out_of_hours,
                  "minutes_spent": row.minutes_spent, "card_id": row.card_id, "person_id": row.person_id,
                  "desk_id": desk_id, "resolved": row.resolved_at is not None},
                 organisation_id=row.organisation_id)
    return row


def resolve_support_case(actor: User, case_id: int, resolution: str, extra_minutes: int = 0) -> SupportCase:
    """Close an open case with what was done; time spent since it was opened is added."""
    require_role(actor, Role.CARD_ADMIN, Role.ADMIN)
    case = get_case(actor, case_id)
    if not actor.has_role(Role.ADMIN) and case.desk_id not in {d.id for d in actor.desks} \
            and case.handled_by_id != actor.id:
        raise Forbidden("Ärendet hör till en annan kortutlämning än dina.")
    if case.resolved_at is not None:
        raise Conflict("Ärendet är redan löst.")
    text = free_text(resolution, "Åtgärd", where="åtgärden", max_length=4000)
    total = _time_of_a_resolved_case(_minutes(extra_minutes) + case.minutes_spent)
    case.resolution, case.minutes_spent, case.resolved_at = text, total, utcnow()
    db.session.flush()
    audit.record(db.session, actor, "support_case.resolve", "support_case", case.id,
                 {"minutes_spent": total, "added_minutes": extra_minutes},
                 organisation_id=case.organisation_id)
    return case
