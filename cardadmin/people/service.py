"""Rules for card holders: create, update, find. Writes audit rows; callers commit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select

from cardadmin import audit
from cardadmin.accounts.models import Organisation, Unit, User
from cardadmin.accounts.service import get_or_404
from cardadmin.db import db
from cardadmin.errors import Conflict, Forbidden, InvalidInput, NotFound
from cardadmin.identifiers import parse_personnummer
from cardadmin.people.matching import name_or_hsa_id_clause
from cardadmin.people.models import Person
from cardadmin.roles import Role
from cardadmin.security import Grant, require_role, role_scope
from cardadmin.validation import clean_text, email_input, free_text, hsa_id_input, unique_or_conflict

EDITORS = (Role.ORDERER, Role.RA_OFFICER, Role.CARD_ADMIN, Role.ADMIN)
_PHONE = re.compile(r"^\+?[0-9 ()-]{5,40}$")


@dataclass
class PersonInput:
    hsa_id: str
    given_name: str
    surname: str
    organisation_id: int
    title: str = ""
    mail: str = ""
    telephone: str = ""
    unit_id: int | None = None
    personnummer: str | None = None  # as typed; validated and normalised here
    protected_identity: bool = False
    start_date: date | None = None
    end_date: date | None = None


def _validate(actor: User, data: PersonInput) -> dict[str, Any]:
    get_or_404(Organisation, data.organisation_id, "Organisationen")
    if not actor.has_role(Role.ADMIN, Role.CARD_ADMIN) and data.organisation_id != actor.organisation_id:
        raise Forbidden("Du kan bara registrera personer anställda i din egen organisation.")
    if data.unit_id is not None:
        unit = get_or_404(Unit, data.unit_id, "Enheten")
        if unit.organisation_id != data.organisation_id:
            raise InvalidInput("Enheten hör inte till personens arbetsgivare.", field="unit_id")
    mail = email_input(data.mail, field="mail")
    phone = clean_text(data.telephone, "Telefon", max_length=40, required=False)
    if phone and not _PHONE.match(phone):
        raise InvalidInput("Telefonnumret får bara innehålla siffror, mellanslag, +, - och parenteser.",
                           field="telephone")
    pnr: str | None = None
    if (data.personnummer or "").strip():
        try:
            pnr = parse_personnummer(data.personnummer or "")
        except ValueError as exc:
            raise InvalidInput(str(exc), field="personnummer") from None
    if data.start_date and data.end_date and data.end_date < data.start_date:
        raise InvalidInput("Slutdatum kan inte ligga före startdatum.", field="end_date")
    return {
        "hsa_id": hsa_id_input(data.hsa_id),
        "given_name": free_text(data.given_name, "Förnamn", where="förnamnet", max_length=100),
        "surname": free_text(data.surname, "Efternamn", where="efternamnet", max_length=100),
        "title": free_text(data.title, "Titel", where="titeln", max_length=100, required=False),
        "mail": mail,
        "telephone": phone,
        "organisation_id": data.organisation_id,
        "unit_id": data.unit_id,
        "_personnummer": pnr,
        "protected_identity": bool(data.protected_identity),
        "start_date": data.start_date,
        "end_date": data.end_date,
    }


def _audit_view(values: dict[str, Any], protected: bool) -> dict[str, Any]:
    """What the log may hold: never the number itself, and no names/contact for protected persons."""
    hidden = {"given_name", "surname", "title", "mail", "telephone"} if protected else set()
    out = {k: v for k, v in values.items() if k != "_personnummer" and k not in hidden}
    if "_personnummer" in values:
        out["personnummer"] = "angivet" if values["_personnummer"] else "saknas"
    return out


def create_person(actor: User, data: PersonInput) -> Person:
    require_role(actor, *EDITORS)
    values = _validate(actor, data)
    if db.session.scalar(select(Person.id).where(Person.hsa_id == values["hsa_id"])) is not None:
        raise Conflict(f"Det finns redan en person med HSA-id {values['hsa_id']}.")
    person = Person(**values)
    with unique_or_conflict(f"Det finns redan en person med HSA-id {values['hsa_id']}."):
        db.session.add(person)
    audit.record(db.session, actor, "person.create", "person", person.id,
                 _audit_view(values, person.protected_identity), organisation_id=person.organisation_id)
    return person


def update_person(actor: User, person_id: int, data: PersonInput, *, keep_personnummer: bool = False) -> Person:
    """``keep_personnummer``: leave the stored number as it is (HSA edits, which never see it)."""
    require_role(actor, *EDITORS)
    person = _scoped_get(actor, person_id)
    values = _validate(actor, data)
    if keep_personnummer:
        values.pop("_personnummer")
    diff: dict[str, Any] = {name: [getattr(person, name), new] for name, new in values.items()
                            if getattr(person, name) != new}
    if diff:
        with unique_or_conflict(f"Det finns redan en person med HSA-id {values['hsa_id']}."):
            for name, (_old, new) in diff.items():
                setattr(person, name, new)
        logged = _audit_view(diff, person.protected_identity or "protected_identity" in diff)
        if "_personnummer" in diff:
            logged["personnummer"] = "ändrat"
        audit.record(db.session, actor, "person.update", "person", person.id, logged,
                     organisation_id=person.organisation_id)
    return person


# ---------------------------------------------------------------- finding people


def visible_persons(actor: User) -> Select[tuple[Person]]:
    """Admins and card administrators (whose desks serve several organisations) see every person;
    orderers and RA officers their own organisation's staff; anyone else nobody."""
    return select(Person).where(role_scope(actor, _person_grants, everything=(Role.ADMIN, Role.CARD_ADMIN)))


def _person_grants(actor: Any) -> list[Grant]:
    own = Person.organisation_id == actor.organisation_id if actor.organisation_id else None
    return [(Role.ORDERER, own), (Role.RA_OFFICER, own)]


def lock_person(person: Person) -> Person:
    """Hold the person's row until the transaction ends, and read it as it is now. Placing an order for a person
    and removing their HSA entry both take this lock before they check anything, so the second waits for the
    first and then sees what it did: the removal sees the new order, the order sees the removed entry."""
    db.session.refresh(person, with_for_update=True)
    return person


def _scoped_get(actor: User, person_id: int) -> Person:
    person = db.session.scalar(visible_persons(actor).where(Person.id == person_id))
    if person is None:
        raise NotFound("Personen finns inte.")
    return person


def find_by_hsa_id(actor: User, hsa_id: str) -> Person | None:
    return db.session.scalar(visible_persons(actor).where(Person.hsa_id == (hsa_id or "").strip()))


def search_persons(actor: User, text: str, *, limit: int = 20) -> list[Person]:
    """By HSA-ID prefix or name prefix, surname order; removed HSA entries are not offered."""
    text = (text or "").strip()[:100]
    if len(text) < 2:
        raise InvalidInput("Skriv minst två tecken att söka på.", field="q")
    stmt = (visible_persons(actor).where(Person.removed_at.is_(None)).where(name_or_hsa_id_clause(text))
            .order_by(Person.surname, Person.given_name, Person.id).limit(min(max(limit, 1), 100)))
    return list(db.session.scalars(stmt))
