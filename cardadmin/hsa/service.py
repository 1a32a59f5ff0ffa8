"""Rules for HSA person and unit entries: create, change, remove, with change-log and audit rows in the caller's
transaction (callers commit). Persons are created and changed through ``cardadmin.people.service`` (its validation
and audit rows), units through ``cardadmin.accounts.service.save_unit``; this module adds the HSA rules around
them: scope, HSA-ID free across persons and units, unit memberships, removal, and the change log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, exists, func, insert, select, update

from cardadmin import audit
from cardadmin.accounts import service as accounts
from cardadmin.accounts.models import Organisation, Unit
from cardadmin.db import db, utcnow
from cardadmin.errors import Conflict, Forbidden, InvalidInput, NotFound
from cardadmin.hsa import changelog
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.models import person_unit
from cardadmin.hsa.rules import (
    CREATORS,
    WRITERS,
    ensure_free,
    holder_of,
    hsa_id_warnings,
    organisation_for_hsa_id,
    organisation_scope,
    require_in_scope,
)
from cardadmin.orders import states
from cardadmin.orders.models import Card, Order
from cardadmin.people import service as people
from cardadmin.people.models import Person
from cardadmin.roles import Role
from cardadmin.security import require_role
from cardadmin.validation import hsa_id_input

_PROTECTED_ATTRIBUTES = {"givenName", "sn", "title", "mail", "telephoneNumber"}


@dataclass
class PersonEntryInput:
    hsa_id: str
    given_name: str
    surname: str
    title: str = ""
    mail: str = ""
    telephone: str = ""
    organisation_id: int | None = None  # None: the organisation of the HSA-ID's organisation number
    unit_ids: list[int] = field(default_factory=list)  # memberships; the first is the primary unit
    start_date: date | None = None
    end_date: date | None = None
    # Not HSA attributes: kept with the person when an entry is created (card orders need them), never logged.
    personnummer: str | None = None
    protected_identity: bool = False


@dataclass
class UnitEntryInput:
    hsa_id: str
    name: str
    organisation_id: int | None = None
    parent_id: int | None = None
    town: str = ""


# ---------------------------------------------------------------- snapshots (LDAP attribute names)


def unit_ids_of(person_id: int) -> list[int]:
    return list(db.session.scalars(select(person_unit.c.unit_id).where(person_unit.c.person_id == person_id)))


def person_snapshot(person: Person) -> dict[str, Any]:
    unit_ids = unit_ids_of(person.id)
    units = sorted(db.session.scalars(select(Unit.hsa_id).where(Unit.id.in_(unit_ids)))) if unit_ids else []
    return {"hsaIdentity": person.hsa_id, "givenName": person.given_name, "sn": person.surname,
            "title": person.title, "mail": person.mail, "telephoneNumber": person.telephone,
            "organisation": person.organisation.org_number, "hsaUnitIdentity": units,
            "startDate": person.start_date, "endDate": person.end_date}


def unit_snapshot(unit: Unit) -> dict[str, Any]:
    return {"hsaIdentity": unit.hsa_id, "ou": unit.name, "organisation": unit.organisation.org_number,
            "parent": unit.parent.hsa_id if unit.parent else None, "l": unit.town}


def diff(before: dict[str, Any], after: dict[str, Any], *, protected: bool = False) -> list[tuple[str, Any, Any]]:
    out = []
    for name, new in after.items():
        old = before.get(name)
        if (old or None) != (new or None):
            out.append((name, "(skyddad)", "(skyddad)") if protected and name in _PROTECTED_ATTRIBUTES
                       else (name, old, new))
    return out


# ---------------------------------------------------------------- persons


def _scoped_person(actor: Any, person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    scope = organisation_scope(actor)
    if person is None or (scope is not None and person.organisation_id not in scope):
        raise NotFound("HSA-posten finns inte.")
    return person


def _resolve(ctx: ChangeContext, data: PersonEntryInput, roles: tuple[Role, ...] = WRITERS,
             ) -> tuple[str, int, list[int], list[str]]:
    require_role(ctx.actor, *roles)
    hsa_id = hsa_id_input(data.hsa_id) or ""
    warnings = hsa_id_warnings(hsa_id, ctx.cache)
    organisation_id = data.organisation_id
    if organisation_id is None:
        owner = organisation_for_hsa_id(hsa_id, ctx.cache)
        if owner is None and data.unit_ids:
            unit = _unit(ctx, data.unit_ids[0])
            owner = unit.organisation
        if owner is None:
            raise InvalidInput("Välj organisation: HSA-id:ts organisationsnummer hör inte till någon känd "
                               "organisation.", field="organisation_id")
        organisation_id = owner.id
    elif db.session.get(Organisation, organisation_id) is None:
        raise NotFound("Organisationen finns inte.")
    ctx.cache[("organisation", organisation_id)] = db.session.get(Organisation, organisation_id)
    require_in_scope(ctx.actor, organisation_id)
    unit_ids = list(dict.fromkeys(data.unit_ids))
    for unit_id in unit_ids:  # memberships only in units the actor may work with (the API takes any id)
        require_in_scope(ctx.actor, _unit(ctx, unit_id).organisation_id)
    return hsa_id, organisation_id, unit_ids, warnings


def _unit(ctx: ChangeContext, unit_id: int) -> Unit:
    key = ("unit", unit_id)
    if key not in ctx.cache:
        unit = db.session.get(Unit, unit_id)
        if unit is None:
            raise NotFound("Enheten finns inte.")
        ctx.cache[key] = unit
        ctx.cache[("organisation", unit.organisation_id)] = unit.organisation
    return ctx.cache[key]


def _person_input(data: PersonEntryInput, hsa_id: str, organisation_id: int, unit_ids: list[int],
                  protected: bool = False) -> people.PersonInput:
    return people.PersonInput(hsa_id=hsa_id, given_name=data.given_name, surname=data.surname,
                              organisation_id=organisation_id, title=data.title, mail=data.mail,
                              telephone=data.telephone, unit_id=unit_ids[0] if unit_ids else None,
                              protected_identity=protected, start_date=data.start_date, end_date=data.end_date,
                              personnummer=data.personnummer)


def _set_memberships(person_id: int, unit_ids: list[int], *, fresh: bool = False) -> None:
    if not fresh:
        db.session.execute(delete(person_unit).where(person_unit.c.person_id == person_id))
    if unit_ids:
        db.session.execute(insert(person_unit), [{"person_id": person_id, "unit_id": u} for u in unit_ids])


def create_person_entry(ctx: ChangeContext, data: PersonEntryInput) -> tuple[Person, list[str]]:
    """Create a person entry (or bring back a removed one with the same HSA-ID). Returns it and warnings. Every
    way a person comes into the register goes through here (HSA pages, API, import, sync, and the orderer's
    'Ny kortmottagare'), so each created entry is in the change log that billing and the pilot count."""
    hsa_id, organisation_id, unit_ids, warnings = _resolve(ctx, data, CREATORS)
    holder = holder_of(hsa_id)
    removed = None if holder != "person" else db.session.scalar(
        select(Person).where(Person.hsa_id == hsa_id, Person.removed_at.is_not(None)))
    if removed is not None:
        require_in_scope(ctx.actor, removed.organisation_id)
        removed.removed_at = None
        person = people.update_person(ctx.actor, removed.id, _person_input(
            data, hsa_id, organisation_id, unit_ids, removed.protected_identity), keep_personnummer=True)
        audit.record(db.session, ctx.actor, "hsa.person.restore", "person", person.id, {"hsa_id": hsa_id},
                     organisation_id=person.organisation_id)
    else:
        if holder is not None:
            ensure_free(hsa_id)  # refuses, naming the holder
        try:
            person = people.create_person(ctx.actor, _person_input(data, hsa_id, organisation_id, unit_ids,
                                                                   data.protected_identity))
        except Conflict:
            # A concurrent writer took the HSA-ID after our check (the registry's key stopped us; only the new
            # person was undone): say that it happened just now, rather than what the service's check saw.
            raise Conflict(f"HSA-id {hsa_id} registrerades nyss av någon annan och används redan.",
                           field="hsa_id") from None
    _set_memberships(person.id, unit_ids, fresh=removed is None)
    if len(unit_ids) > 1:
        audit.record(db.session, ctx.actor, "hsa.person.units", "person", person.id,
                     {"unit_ids": unit_ids}, organisation_id=person.organisation_id)
    changelog.record(ctx, "created", "person", person.id, hsa_id, person.organisation_id)
    return person, warnings


def update_person_entry(ctx: ChangeContext, person_id: int, data: PersonEntryInput) -> tuple[Person, list[str]]:
    person = _scoped_person(ctx.actor, person_id)
    if person.removed_at is not None:
        raise Conflict("HSA-posten är borttagen och kan inte ändras.")
    hsa_id, organisation_id, unit_ids, warnings = _resolve(ctx, data)
    ensure_free(hsa_id, holder_hsa_id=person.hsa_id)
    before = person_snapshot(person)
    people.update_person(ctx.actor, person.id, _person_input(
        data, hsa_id, organisation_id, unit_ids, person.protected_identity), keep_personnummer=True)
    if set(unit_ids) != set(unit_ids_of(person.id)):
        _set_memberships(person.id, unit_ids)
        audit.record(db.session, ctx.actor, "hsa.person.units", "person", person.id, {"unit_ids": unit_ids},
                     organisation_id=person.organisation_id)
    db.session.refresh(person, ["organisation"])
    changes = diff(before, person_snapshot(person), protected=person.protected_identity)
    if changes:
        changelog.record(ctx, "changed", "person", person.id, person.hsa_id, person.organisation_id, changes)
    return person, warnings


def remove_person_entry(ctx: ChangeContext, person_id: int) -> Person:
    """Mark the entry removed (its row stays for its orders' and cards' history). Refused while a card of the
    person is live (``states.CARD_LIVE``: waiting at a desk, handed over or active): revoke it first; and while
    an order for them is under way (``states.OPEN``), which would go on to make a card live.

    Races: every card starts with an order, and placing an order locks the person's row as this does
    (``people.lock_person``), so an order and a removal are served one after the other. Cards and orders are
    then read in one statement (one snapshot): an order leaves OPEN only as its card goes live or never will,
    so no card registered and handed over between two separate reads slips through."""
    require_role(ctx.actor, *WRITERS)
    person = people.lock_person(_scoped_person(ctx.actor, person_id))
    if person.removed_at is not None:
        raise Conflict("HSA-posten är redan borttagen.")
    live, pending = db.session.execute(select(
        exists().where(Card.person_id == person.id, Card.status.in_(states.CARD_LIVE)),
        exists().where(Order.person_id == person.id, Order.status.in_(states.OPEN)))).one()
    if live:
        raise Conflict(f"{person.hsa_id} har ett aktivt eller utlämnat kort. Spärra kortet innan posten tas bort.")
    if pending:  # the order would go on to produce a card for an entry that no longer exists
        raise Conflict(f"{person.hsa_id} har en pågående kortbeställning. Makulera eller avslå den innan posten "
                       "tas bort.")
    person.removed_at = utcnow()
    db.session.flush()
    audit.record(db.session, ctx.actor, "hsa.person.remove", "person", person.id, {"hsa_id": person.hsa_id},
                 organisation_id=person.organisation_id)
    changelog.record(ctx, "removed", "person", person.id, person.hsa_id, person.organisation_id)
    return person


# ---------------------------------------------------------------- units


def _unit_fields(ctx: ChangeContext, data: UnitEntryInput) -> tuple[dict[str, Any], list[str]]:
    if not ctx.actor.has_role(Role.ADMIN):
        raise Forbidden("Bara administratörer lägger in och ändrar enheter.")
    hsa_id = hsa_id_input(data.hsa_id) or ""
    organisation_id = data.organisation_id
    if organisation_id is None:
        owner = organisation_for_hsa_id(hsa_id, ctx.cache)
        if owner is None:
            raise InvalidInput(f"Enhetens organisation är okänd (HSA-id {hsa_id}).", field="organisation_id")
        organisation_id = owner.id
    return ({"name": data.name, "hsa_id": hsa_id, "organisation_id": organisation_id,
             "parent_id": data.parent_id, "town": data.town}, hsa_id_warnings(hsa_id, ctx.cache))


def create_unit_entry(ctx: ChangeContext, data: UnitEntryInput) -> tuple[Unit, list[str]]:
    fields, warnings = _unit_fields(ctx, data)
    ensure_free(fields["hsa_id"])
    unit = accounts.save_unit(ctx.actor, None, **fields)
    changelog.record(ctx, "created", "unit", unit.id, unit.hsa_id, unit.organisation_id)
    return unit, warnings


def update_unit_entry(ctx: ChangeContext, unit_id: int, data: UnitEntryInput) -> tuple[Unit, list[str]]:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("Enheten finns inte.")
    fields, warnings = _unit_fields(ctx, data)
    ensure_free(fields["hsa_id"], holder_hsa_id=unit.hsa_id)
    before = unit_snapshot(unit)
    accounts.save_unit(ctx.actor, unit, **fields)
    db.session.refresh(unit, ["organisation", "parent"])
    changes = diff(before, unit_snapshot(unit))
    if changes:
        changelog.record(ctx, "changed", "unit", unit.id, unit.hsa_id, unit.organisation_id, changes)
    return unit, warnings


def remove_unit_entry(ctx: ChangeContext, unit_id: int) -> None:
    """Delete a unit that no current person entry belongs to and no unit lies under."""
    if not ctx.actor.has_role(Role.ADMIN):
        raise Forbidden("Bara administratörer tar bort enheter.")
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("Enheten finns inte.")
    current = (Person.removed_at.is_(None))
    members = db.session.scalar(select(func.count()).select_from(Person).where(current, Person.id.in_(
        select(person_unit.c.person_id).where(person_unit.c.unit_id == unit.id))))
    primary = db.session.scalar(select(func.count()).select_from(Person).where(current, Person.unit_id == unit.id))
    if members or primary:
        raise Conflict(f"Enheten {unit.hsa_id} har personer kopplade till sig; flytta eller ta bort dem först.")
    if db.session.scalar(select(func.count()).select_from(Unit).where(Unit.parent_id == unit.id)):
        raise Conflict(f"Enheten {unit.hsa_id} har underenheter; ta bort eller flytta dem först.")
    # Removed persons keep their history but let go of the unit.
    db.session.execute(delete(person_unit).where(person_unit.c.unit_id == unit.id))
    db.session.execute(update(Person).where(Person.unit_id == unit.id).values(unit_id=None))
    hsa_id, organisation_id = unit.hsa_id, unit.organisation_id
    db.session.delete(unit)
    db.session.flush()
    audit.record(db.session, ctx.actor, "unit.delete", "unit", unit_id, {"hsa_id": hsa_id},
                 organisation_id=organisation_id)
    changelog.record(ctx, "removed", "unit", unit_id, hsa_id, organisation_id)
