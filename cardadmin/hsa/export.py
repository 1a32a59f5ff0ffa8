"""The register's HSA entries as records (units first, parents before children; then current persons), read in
batches so an export of any size streams."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from cardadmin.accounts.models import Unit
from cardadmin.db import db
from cardadmin.hsa.models import person_unit
from cardadmin.hsa.records import PersonRecord, Record, UnitRecord
from cardadmin.hsa.rules import organisation_scope
from cardadmin.people.models import Person

BATCH = 1000


def _units(scope: set[int] | None) -> Iterator[UnitRecord]:
    stmt = select(Unit)
    if scope is not None:
        stmt = stmt.where(Unit.organisation_id.in_(scope))
    units = list(db.session.scalars(stmt.order_by(Unit.id)))
    by_id = {u.id: u for u in units}
    emitted: set[int] = set()

    def emit(unit: Unit, depth: int = 0) -> Iterator[UnitRecord]:
        if unit.id in emitted or depth > 50:
            return
        if unit.parent_id in by_id:
            yield from emit(by_id[unit.parent_id], depth + 1)
        emitted.add(unit.id)
        parent = unit.parent.hsa_id if unit.parent else None
        yield UnitRecord(hsa_id=unit.hsa_id, name=unit.name, parent_hsa_id=parent, town=unit.town)

    for unit in units:
        yield from emit(unit)


def unit_hsa_ids() -> dict[int, str]:
    return {unit_id: hsa_id for unit_id, hsa_id in db.session.execute(select(Unit.id, Unit.hsa_id))}


def person_records(scope: set[int] | None, *, include_removed: bool = False) -> Iterator[tuple[int, PersonRecord]]:
    """(person id, record) for persons, in id order, in batches (keyset), with their unit memberships."""
    units = unit_hsa_ids()
    last = 0
    while True:
        stmt = select(Person).where(Person.id > last).order_by(Person.id).limit(BATCH)
        if scope is not None:
            stmt = stmt.where(Person.organisation_id.in_(scope))
        if not include_removed:
            stmt = stmt.where(Person.removed_at.is_(None))
        batch = list(db.session.scalars(stmt))
        if not batch:
            return
        members: dict[int, list[str]] = {}
        for person_id, unit_id in db.session.execute(select(person_unit.c.person_id, person_unit.c.unit_id).where(
                person_unit.c.person_id.in_([p.id for p in batch]))):
            members.setdefault(person_id, []).append(units[unit_id])
        for p in batch:
            ids = sorted(members.get(p.id, []))
            primary = units.get(p.unit_id) if p.unit_id else None
            if primary in ids:  # the primary unit first, so an import sets the same primary unit
                ids.remove(primary)
                ids.insert(0, primary)
            yield p.id, PersonRecord(hsa_id=p.hsa_id, given_name=p.given_name, surname=p.surname, title=p.title,
                                     mail=p.mail, telephone=p.telephone, unit_hsa_ids=tuple(ids),
                                     start_date=p.start_date, end_date=p.end_date)
        last = batch[-1].id


def records(actor: Any) -> Iterator[Record]:
    scope = organisation_scope(actor)
    yield from _units(scope)
    for _id, record in person_records(scope):
        yield record
