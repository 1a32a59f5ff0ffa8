"""Card holders: validation, masking, audit rows, scope. Also the helpers other order tests use."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from cardadmin.accounts import service as accounts
from cardadmin.accounts.models import User
from cardadmin.audit.models import AuditEvent
from cardadmin.db import db
from cardadmin.errors import Conflict, Forbidden, InvalidInput, NotFound
from cardadmin.people import service
from cardadmin.people.models import Person
from cardadmin.people.service import PersonInput
from cardadmin.roles import Role
from tests.conftest import PASSWORD, World, build_world

PNR = "19121212-1212"


def user(world: World, name: str) -> User:
    """The fixture's user, attached to this context's session."""
    return db.session.get(User, world.users[name].id)


def add_user(world: World, username: str, roles: list[Role], org_id: int, desk_ids: list[int] | None = None) -> User:
    new = accounts.create_user(user(world, "admin"), accounts.UserInput(
        username, username.title(), roles=roles, organisation_id=org_id, desk_ids=desk_ids or []), PASSWORD)
    db.session.commit()
    return new


def add_person(world: World, local: str = "P1", *, org: str = "region", actor: str = "admin", **extra: Any) -> Person:
    org_id, prefix = (world.region_id, "SE2321000222") if org == "region" else (world.municipality_id, "SE2120002650")
    fields: dict[str, Any] = {"given_name": "Anna", "surname": f"Berg{local}"} | extra
    person = service.create_person(user(world, actor), PersonInput(
        hsa_id=f"{prefix}-{local}", organisation_id=org_id, **fields))
    db.session.commit()
    return person


def audit_rows(action: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.seq)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.session.scalars(stmt))


@pytest.fixture
def w(app_ctx: Any) -> World:
    return build_world()


def test_create_person_writes_an_audit_row_without_the_personnummer(w: World) -> None:
    person = add_person(w, "4KX7", personnummer=PNR, title="Sjuksköterska", mail="anna@example.se",
                        telephone="+46 90 123 45")
    assert person._personnummer == "191212121212"
    assert person.personnummer_masked == "19121212-****"
    assert "1212121212" not in repr(person)
    (row,) = audit_rows("person.create")
    assert (row.target_type, row.target_id, row.organisation_id) == ("person", str(person.id), w.region_id)
    data = json.loads(row.data)
    assert data["hsa_id"] == "SE2321000222-4KX7" and data["personnummer"] == "angivet"
    assert "1212" not in row.data


def test_samordningsnummer_is_accepted(w: World) -> None:
    assert add_person(w, "S1", personnummer="701063-2391").personnummer_masked == "19701063-****"


@pytest.mark.parametrize("hsa_id", ["SE232100022-1", "SE2321000223-X", "XX2321000222-1", "SE2321000222-",
                                    "SE2321000222-ÅÄ", "SE2321000222-" + "A" * 30, ""])
def test_malformed_hsa_id_is_refused_and_nothing_stored(w: World, hsa_id: str) -> None:
    with pytest.raises(InvalidInput):
        service.create_person(user(w, "orderer"), PersonInput(hsa_id, "Anna", "Berg", w.region_id))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0
    assert audit_rows("person.create") == []


@pytest.mark.parametrize("pnr", ["19121212-1213", "19121312-1212", "1212", "abcdefgh-ijkl", "19120230-1234"])
def test_malformed_personnummer_is_refused_and_nothing_stored(w: World, pnr: str) -> None:
    with pytest.raises(InvalidInput, match="Personnumret"):
        service.create_person(user(w, "orderer"),
                              PersonInput("SE2321000222-P9", "Anna", "Berg", w.region_id, personnummer=pnr))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_test_identities_are_refused_in_production_mode(make_app: Any) -> None:
    app = make_app(ALLOW_TEST_IDENTITIES=False)
    with app.app_context():
        world = build_world()
        with pytest.raises(InvalidInput, match="Test-HSA-id"):
            service.create_person(user(world, "orderer"),
                                  PersonInput("TSTNMT2321000156-1019", "Test", "Testsson", world.region_id))


def test_test_identities_are_allowed_when_configured(w: World) -> None:
    person = service.create_person(user(w, "orderer"),
                                   PersonInput("TSTNMT2321000156-1019", "Test", "Testsson", w.region_id))
    assert person.id


def test_duplicate_hsa_id_is_a_conflict(w: World) -> None:
    add_person(w, "D1")
    with pytest.raises(Conflict, match="finns redan"):
        add_person(w, "D1")


def test_orderer_registers_only_own_organisations_staff(w: World) -> None:
    with pytest.raises(Forbidden):
        add_person(w, "K1", org="kommun", actor="orderer")
    with pytest.raises(Forbidden):
        add_person(w, "E1", actor="evaluator")


def test_unit_must_belong_to_the_employer(w: World) -> None:
    admin = user(w, "admin")
    unit = accounts.save_unit(admin, None, name="Lycksele lasarett", hsa_id="SE2321000222-LL1",
                              organisation_id=w.region_id, parent_id=None, town="Lycksele")
    assert add_person(w, "U1", unit_id=unit.id).unit_id == unit.id
    with pytest.raises(InvalidInput, match="Enheten"):
        add_person(w, "U2", org="kommun", unit_id=unit.id)


def test_update_logs_the_diff_and_masks_the_number(w: World) -> None:
    person = add_person(w, "UP", personnummer=PNR)
    data = PersonInput(person.hsa_id, "Anna", "Lind", w.region_id, personnummer="19701063-2391")
    service.update_person(user(w, "orderer"), person.id, data)
    db.session.commit()
    (row,) = audit_rows("person.update")
    logged = json.loads(row.data)
    assert logged["surname"] == ["BergUP", "Lind"] and logged["personnummer"] == "ändrat"
    assert "2391" not in row.data and "1212" not in row.data
    service.update_person(user(w, "orderer"), person.id, data)  # nothing changed: no row
    assert len(audit_rows("person.update")) == 1


def test_protected_identity_keeps_names_out_of_the_log_and_out_of_name_search(w: World) -> None:
    person = add_person(w, "SKY", given_name="Hemlig", surname="Person", protected_identity=True)
    row = audit_rows("person.create")[-1]
    assert "Hemlig" not in row.data
    orderer = user(w, "orderer")
    assert service.search_persons(orderer, "Hemlig") == []
    assert service.search_persons(orderer, "SE2321000222-SKY") == [person]
    assert service.find_by_hsa_id(orderer, "SE2321000222-SKY") == person


def test_find_and_search_are_scoped(w: World) -> None:
    region_person = add_person(w, "R1", given_name="Karin", surname="Ek")
    kommun_person = add_person(w, "K1", org="kommun", given_name="Karin", surname="Ekström")
    assert service.search_persons(user(w, "orderer"), "Karin Ek") == [region_person]
    assert service.search_persons(user(w, "ra_kommun"), "karin") == [kommun_person]
    assert service.search_persons(user(w, "card_admin"), "Ek") == [region_person, kommun_person]
    assert service.find_by_hsa_id(user(w, "ra_kommun"), region_person.hsa_id) is None
    assert service.search_persons(user(w, "evaluator"), "Karin") == []
    with pytest.raises(NotFound):
        service.update_person(user(w, "ra_kommun"), region_person.id,
                              PersonInput(region_person.hsa_id, "X", "Y", w.region_id))
    with pytest.raises(InvalidInput):
        service.search_persons(user(w, "orderer"), "K")
