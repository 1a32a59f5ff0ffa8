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


def unit_record(unit: Unit) -> UnitRecord:
    return UnitRecord(hsa_id=unit.hsa_id, name=unit.name, parent_hsa_id=unit.parent.hsa_id if unit.parent else None,
                      town=unit.town)


def unit_records(scope: set[int] | None) -> Iterator[tuple[int, UnitRecord]]:
    """(unit id, record), parents before children."""
    stmt = select(Unit)
    if scope is not None:
        stmt = stmt.where(Unit.organisation_id.in_(scope))
    units = list(db.session.scalars(stmt.order_by(Unit.id)))
    by_id = {u.id: u for u in units}
    emitted: set[int] = set()

    def emit(unit: Unit, depth: int = 0) -> Iterator[tuple[int, UnitRecord]]:
        if unit.id in emitted or depth > 50:
            return
        if unit.parent_id in by_id:
            yield from emit(by_id[unit.parent_id], depth + 1)
        emitted.add(unit.id)
        yield unit.id, unit_record(unit)

    for unit in units:
        yield from emit(unit)


def unit_hsa_ids() -> dict[int, str]:
    return {unit_id: hsa_id for unit_id, hsa_id in db.session.execute(select(Unit.id, Unit.hsa_id))}


def person_records(scope: set[int] | None, *, include_removed: bool = False,
                   include_protected: bool = True) -> Iterator[tuple[int, PersonRecord]]:
    """(person id, record) for persons, in id order, in batches (keyset), with their unit memberships."""
    units = unit_hsa_ids()
    last = 0
    while True:
        stmt = select(Person).where(Person.id > last).order_by(Person.id).limit(BATCH)
        if scope is not None:
            stmt = stmt.where(Person.organisation_id.in_(scope))
        if not include_removed:
            stmt = stmt.where(Person.removed_at.is_(None))
        if not include_protected:
            stmt = stmt.where(Person.protected_identity.is_(False))
        batch = list(db.session.scalars(stmt))
        if not batch:
            return
        members: dict[int, list[str]] = {}
        for person_id, unit_id in db.session.execute(select(person_unit.c.person_id, person_unit.c.unit_id).where(
                person_unit.c.person_id.in_([p.id for p in batch]))):
            members.setdefault(person_id, []).append(units[unit_id])
        for p in batch:
            yield p.id, person_record(p, members.get(p.id, []), units)
        last = batch[-1].id


def person_record(person: Person, member_hsa_ids: list[str] | None = None,
                  units: dict[int, str] | None = None) -> PersonRecord:
    """The entry as a record; unit memberships with the primary unit first, then by HSA-ID."""
    if member_hsa_ids is None:
        member_hsa_ids = list(db.session.scalars(select(Unit.hsa_id).join(
            person_unit, person_unit.c.unit_id == Unit.id).where(person_unit.c.person_id == person.id)))
    ids = sorted(member_hsa_ids)
    primary = (units.get(person.unit_id) if units is not None else person.unit.hsa_id if person.unit else None) \
        if person.unit_id else None
    if primary in ids:
        ids.remove(primary)
        ids.insert(0, primary)
    return PersonRecord(hsa_id=person.hsa_id, given_name=person.given_name, surname=person.surname,
                        title=person.title, mail=person.mail, telephone=person.telephone, unit_hsa_ids=tuple(ids),
                        start_date=person.start_date, end_date=person.end_date)


def records(actor: Any) -> Iterator[Record]:
    scope = organisation_scope(actor)
    for _id, unit in unit_records(scope):
        yield unit
    # Files leave the system: persons with a protected identity (skyddad identitet) are never in them.
    for _id, record in person_records(scope, include_protected=False):
        yield record
