"""Finding HSA entries within the actor's scope: persons (name, HSA-ID, unit), units, the unit tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select

from cardadmin.accounts.models import Unit
from cardadmin.db import db
from cardadmin.errors import NotFound
from cardadmin.hsa.models import person_unit
from cardadmin.hsa.rules import organisation_scope
from cardadmin.people.matching import name_or_hsa_id_clause
from cardadmin.people.models import Person

MAX_RESULTS = 100


def scoped_persons(actor: Any) -> Select[tuple[Person]]:
    stmt = select(Person)
    scope = organisation_scope(actor)
    return stmt if scope is None else stmt.where(Person.organisation_id.in_(scope))


def get_person(actor: Any, person_id: int) -> Person:
    person = db.session.scalar(scoped_persons(actor).where(Person.id == person_id))
    if person is None:
        raise NotFound("HSA-posten finns inte.")
    return person


@dataclass
class EntrySearch:
    text: str = ""
    unit_id: int | None = None
    include_removed: bool = False


def search_persons(actor: Any, query: EntrySearch, limit: int = MAX_RESULTS) -> list[Person]:
    stmt = scoped_persons(actor)
    text = query.text.strip()[:100]
    # Protected identities are found only by their exact HSA-ID, never by listing a unit.
    stmt = stmt.where(name_or_hsa_id_clause(text) if text else Person.protected_identity.is_(False))
    if query.unit_id is not None:
        stmt = stmt.where(or_(Person.unit_id == query.unit_id, Person.id.in_(
            select(person_unit.c.person_id).where(person_unit.c.unit_id == query.unit_id))))
    if not query.include_removed:
        stmt = stmt.where(Person.removed_at.is_(None))
    return list(db.session.scalars(stmt.order_by(Person.surname, Person.given_name, Person.id).limit(limit)))


def search_units(actor: Any, text: str, limit: int = MAX_RESULTS) -> list[Unit]:
    stmt = select(Unit)
    scope = organisation_scope(actor)
    if scope is not None:
        stmt = stmt.where(Unit.organisation_id.in_(scope))
    text = text.strip()[:100]
    if text:
        stmt = stmt.where(or_(Unit.hsa_id.startswith(text, autoescape=True),
                              Unit.name.icontains(text, autoescape=True)))
    return list(db.session.scalars(stmt.order_by(Unit.name, Unit.id).limit(limit)))


def unit_tree(actor: Any) -> list[tuple[int, Unit]]:
    """Units in scope as (depth, unit), each parent followed by its children, by name."""
    units = search_units(actor, "", limit=10_000)
    children: dict[int | None, list[Unit]] = {}
    ids = {u.id for u in units}
    for u in units:
        children.setdefault(u.parent_id if u.parent_id in ids else None, []).append(u)
    out: list[tuple[int, Unit]] = []

    def walk(parent: int | None, depth: int) -> None:
        for u in children.get(parent, []):
            out.append((depth, u))
            if depth < 20:
                walk(u.id, depth + 1)

    walk(None, 0)
    return out
