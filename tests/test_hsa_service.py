"""HSA entries: HSA-ID rules, one HSA-ID across persons and units (also in the database), change log with desk,
organisation and billing period, removal refused while a card is live, audit rows in the same transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from cardadmin.accounts import service as accounts
from cardadmin.accounts.models import Unit
from cardadmin.audit.models import AuditEvent
from cardadmin.db import db
from cardadmin.errors import Conflict, Forbidden, InvalidInput, NotFound
from cardadmin.hsa import changelog, service
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.models import HsaChange, HsaIdentity
from cardadmin.hsa.rules import SystemActor
from cardadmin.hsa.service import PersonEntryInput, UnitEntryInput
from cardadmin.orders.models import Card
from cardadmin.people.models import Person
from tests.conftest import World, build_world
from tests.test_people import user


@pytest.fixture
def w(app_ctx: Any) -> World:
    return build_world()


def ctx(w: World, name: str = "admin", **kw: Any) -> ChangeContext:
    return ChangeContext(user(w, name), kw.pop("source", "web"), **kw)


def unit(w: World, hsa_id: str = "SE2321000222-LL01", name: str = "Lycksele lasarett") -> Unit:
    made, _ = service.create_unit_entry(ctx(w), UnitEntryInput(hsa_id=hsa_id, name=name))
    db.session.commit()
    return made


def person(w: World, local: str = "1019", actor: str = "admin", units: list[int] | None = None,
           **extra: Any) -> Person:
    data = PersonEntryInput(hsa_id=f"SE2321000222-{local}", given_name="Åsa", surname="Öberg",
                            unit_ids=units or [], **extra)
    made, _ = service.create_person_entry(ctx(w, actor), data)
    db.session.commit()
    return made


def changes(hsa_id: str) -> list[HsaChange]:
    return list(db.session.scalars(select(HsaChange).where(HsaChange.hsa_id == hsa_id).order_by(HsaChange.id)))


@pytest.mark.parametrize(("hsa_id", "message"), [
    ("SE2321000223-1019", "kontrollsiffra"),           # Luhn check digit wrong
    ("SE232100022-1019", "formen"),                    # nine digits
    ("SE2321000222-10 19", "formen"),                  # space in the local part
    ("SE2321000222-", "formen"),                       # empty local part
    ("SE2321000222-" + "A" * 19, "högst 31"),          # 32 characters
    ("NO2321000222-1019", "formen"),
])
def test_bad_hsa_ids_are_refused_with_the_reason(w: World, hsa_id: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        service.create_person_entry(ctx(w), PersonEntryInput(hsa_id=hsa_id, given_name="A", surname="B",
                                                             organisation_id=w.region_id))


def test_31_characters_is_accepted(w: World) -> None:
    hsa_id = "SE2321000222-" + "A" * 18
    assert len(hsa_id) == 31
    made, warnings = service.create_person_entry(ctx(w), PersonEntryInput(hsa_id=hsa_id, given_name="A", surname="B"))
    assert made.hsa_id == hsa_id and made.organisation_id == w.region_id and warnings == []


def test_unknown_organisation_part_warns_but_is_accepted(w: World) -> None:
    made, warnings = service.create_person_entry(ctx(w), PersonEntryInput(
        hsa_id="SE5560000001-X1", given_name="A", surname="B", organisation_id=w.region_id))
    assert made.id and len(warnings) == 1 and "556000-0001" in warnings[0]


def test_test_prefix_depends_on_configuration(make_app: Any) -> None:
    for allowed in (True, False):
        app = make_app(ALLOW_TEST_IDENTITIES=allowed)
        with app.app_context():
            w = build_world() if allowed else None
            admin = SystemActor("system:test")
            data = PersonEntryInput(hsa_id="TSTNMT2321000156-1019", given_name="Test", surname="Testsson",
                                    organisation_id=1)
            if allowed:
                made, warnings = service.create_person_entry(ChangeContext(admin, "import"), data)
                assert made.hsa_id == "TSTNMT2321000156-1019" and warnings  # 232100-0156 is no known organisation
                db.session.commit()
            else:
                with pytest.raises(InvalidInput, match="inte tillåtna i produktion"):
                    service.create_person_entry(ChangeContext(admin, "import"), data)
            assert w is None or w.region_id


def test_one_hsa_id_across_persons_and_units(w: World) -> None:
    unit(w, "SE2321000222-LL01")
    with pytest.raises(Conflict, match="används redan av en enhet"):
        service.create_person_entry(ctx(w), PersonEntryInput(hsa_id="SE2321000222-LL01", given_name="A", surname="B"))
    db.session.rollback()
    person(w, "P1")
    with pytest.raises(Conflict, match="används redan av en person"):
        service.create_unit_entry(ctx(w), UnitEntryInput(hsa_id="SE2321000222-P1", name="X"))


def test_the_database_refuses_a_duplicate_even_past_the_service(w: World) -> None:
    """The race: two writers both pass the service check. The registry's key stops the second at flush."""
    unit(w, "SE2321000222-LL01")
    db.session.add(Person(hsa_id="SE2321000222-LL01", given_name="A", surname="B", organisation_id=w.region_id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    # And the registry follows HSA-ID changes and deletes.
    made = person(w, "P1")
    made.hsa_id = "SE2321000222-P2"
    db.session.commit()
    kinds = dict(db.session.execute(select(HsaIdentity.hsa_id, HsaIdentity.kind)).all())
    assert kinds == {"SE2321000222-LL01": "unit", "SE2321000222-P2": "person"}
    db.session.execute(text("DELETE FROM person"))
    assert db.session.scalar(select(func.count()).select_from(HsaIdentity)) == 1


def test_change_log_records_created_changed_removed(w: World) -> None:
    lasarett = unit(w)
    hc = unit(w, "SE2321000222-HCLY1", "Hälsocentralen i Lycksele")
    made = person(w, units=[lasarett.id], title="Sjuksköterska")
    service.update_person_entry(ctx(w, "card_admin", desk_id=w.desk_id), made.id, PersonEntryInput(
        hsa_id=made.hsa_id, given_name="Åsa", surname="Åberg", title="Sjuksköterska", mail="asa@example.se",
        unit_ids=[lasarett.id, hc.id], start_date=date(2026, 9, 1)))
    db.session.commit()
    service.remove_person_entry(ctx(w, "ra_officer"), made.id)
    db.session.commit()
    rows = changes(made.hsa_id)
    assert [r.action for r in rows if r.attribute is None] == ["created", "removed"]
    changed = {r.attribute: (r.old_value, r.new_value) for r in rows if r.action == "changed"}
    assert changed == {"sn": ("Öberg", "Åberg"), "mail": (None, "asa@example.se"),
                       "hsaUnitIdentity": ("SE2321000222-LL01", "SE2321000222-HCLY1;SE2321000222-LL01"),
                       "startDate": (None, "2026-09-01")}
    by_action = {r.action: r for r in rows}
    assert by_action["changed"].actor_name == "card_admin" and by_action["changed"].desk_id == w.desk_id
    assert by_action["removed"].actor_name == "ra_officer" and by_action["removed"].desk_id is None
    assert {r.organisation_id for r in rows} == {w.region_id}
    assert {r.billing_month for r in rows} == {changelog.billing_month(datetime.now(UTC))}
    assert len({r.act for r in rows if r.action == "changed"}) == 1  # one act, four attributes
    assert db.session.get(Person, made.id).removed_at is not None
    assert set(service.unit_ids_of(made.id)) == {lasarett.id, hc.id}


def test_billing_period_names_the_pilot_when_the_act_falls_in_it(w: World) -> None:
    admin = user(w, "admin")
    pilot = accounts.save_pilot_period(admin, None, desk_id=w.desk_id, name="Pilot Lycksele", year=2026,
                                       week_from=37, week_to=43)
    in_pilot = ChangeContext(admin, "web", desk_id=w.desk_id, at=datetime(2026, 9, 30, 22, 30, tzinfo=UTC))
    assert (in_pilot.month, in_pilot.pilot_period_id) == ("2026-10", pilot.id)  # 00:30 Swedish time, 1 Oct
    outside = ChangeContext(admin, "web", desk_id=w.desk_id, at=datetime(2026, 11, 2, 12, tzinfo=UTC))
    assert (outside.month, outside.pilot_period_id) == ("2026-11", None)
    other_desk = ChangeContext(admin, "web", desk_id=w.other_desk_id, at=datetime(2026, 9, 30, 12, tzinfo=UTC))
    assert other_desk.pilot_period_id is None


def test_card_admin_acts_only_at_own_desks(w: World) -> None:
    with pytest.raises(Forbidden, match="kortutlämningen"):
        ChangeContext(user(w, "card_admin"), "web", desk_id=w.other_desk_id)
    with pytest.raises(NotFound):
        ChangeContext(user(w, "card_admin"), "web", desk_id=999)


def test_removal_is_refused_while_a_card_is_live(w: World) -> None:
    made = person(w)
    card = Card(card_number="9752000000000001", person_id=made.id, organisation_id=w.region_id, desk_id=w.desk_id,
                status="active")
    db.session.add(card)
    db.session.commit()
    with pytest.raises(Conflict, match="Spärra kortet"):
        service.remove_person_entry(ctx(w), made.id)
    db.session.rollback()
    card.status = "revoked"
    db.session.commit()
    service.remove_person_entry(ctx(w), made.id)
    db.session.commit()
    with pytest.raises(Conflict, match="redan borttagen"):
        service.remove_person_entry(ctx(w), made.id)


def test_every_act_writes_audit_and_change_log_in_the_same_transaction(w: World) -> None:
    before_audit = db.session.scalar(select(func.count()).select_from(AuditEvent))
    service.create_person_entry(ctx(w), PersonEntryInput(hsa_id="SE2321000222-X1", given_name="A", surname="B"))
    db.session.rollback()  # the edge rolls back: nothing of the act survives
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before_audit
    assert db.session.scalar(select(func.count()).select_from(HsaChange)) == 0
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0
    made = person(w, "X1")
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.target_type == "person", AuditEvent.target_id == str(made.id))))
    assert actions == ["person.create"]
    service.remove_person_entry(ctx(w), made.id)
    db.session.commit()
    assert "hsa.person.remove" in db.session.scalars(select(AuditEvent.action)).all()


def test_scope_ra_officer_own_organisation_card_admin_desk_orgs_and_region(w: World) -> None:
    kommun = PersonEntryInput(hsa_id="SE2120002650-K1", given_name="A", surname="B")
    with pytest.raises(Forbidden):
        service.create_person_entry(ctx(w, "ra_officer"), kommun)  # region's RA, municipality's entry
    db.session.rollback()
    made, _ = service.create_person_entry(ctx(w, "card_admin", desk_id=w.desk_id), kommun)  # the desk's organisation
    region, _ = service.create_person_entry(ctx(w, "card_admin", desk_id=w.desk_id), PersonEntryInput(
        hsa_id="SE2321000222-R1", given_name="A", surname="B"))  # the region
    db.session.commit()
    with pytest.raises(NotFound):
        service.remove_person_entry(ctx(w, "ra_officer"), made.id)
    with pytest.raises(Forbidden):
        service.create_person_entry(ctx(w, "evaluator"), PersonEntryInput(
            hsa_id="SE2321000222-R2", given_name="A", surname="B"))
    with pytest.raises(Forbidden, match="administratörer"):
        service.create_unit_entry(ctx(w, "card_admin", desk_id=w.desk_id), UnitEntryInput(hsa_id="SE2321000222-U9",
                                                                                        name="U"))
    assert region.organisation_id == w.region_id


def test_removed_entry_comes_back_when_created_again(w: World) -> None:
    made = person(w)
    service.remove_person_entry(ctx(w), made.id)
    db.session.commit()
    again = person(w)
    assert again.id == made.id and again.removed_at is None
    assert [r.action for r in changes(made.hsa_id)] == ["created", "removed", "created"]


def test_unit_removal_refused_with_members_or_children(w: World) -> None:
    parent = unit(w)
    child, _ = service.create_unit_entry(ctx(w), UnitEntryInput(hsa_id="SE2321000222-AVD1", name="Avdelning 1",
                                                                parent_id=parent.id))
    db.session.commit()
    member = person(w, units=[child.id])
    with pytest.raises(Conflict, match="underenheter"):
        service.remove_unit_entry(ctx(w), parent.id)
    with pytest.raises(Conflict, match="personer"):
        service.remove_unit_entry(ctx(w), child.id)
    service.remove_person_entry(ctx(w), member.id)
    service.remove_unit_entry(ctx(w), child.id)
    db.session.commit()
    assert db.session.get(Unit, child.id) is None
    assert [r.action for r in changelog.history("unit", child.id)] == ["created", "removed"]


def test_control_characters_are_refused_by_the_shared_text_rule(w: World) -> None:
    from cardadmin.validation import clean_text

    with pytest.raises(InvalidInput, match="otillåtna tecken"):
        service.create_person_entry(ctx(w), PersonEntryInput(hsa_id="SE2321000222-NUL1", given_name="Anna\x00",
                                                             surname="Berg"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0
    assert clean_text("rad ett\nrad två", "Beskrivning", max_length=100) == "rad ett\nrad två"


def test_no_membership_in_a_unit_outside_the_actors_scope(w: World) -> None:
    region_unit = unit(w)
    with pytest.raises(Forbidden):
        service.create_person_entry(ctx(w, "ra_kommun"), PersonEntryInput(
            hsa_id="SE2120002650-K1", given_name="Kim", surname="Kommun", unit_ids=[region_unit.id]))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_an_entry_with_an_order_under_way_is_not_removed(w: World) -> None:
    from cardadmin.orders import service as orders

    made = person(w)
    orders.create_order(user(w, "orderer"), person_id=made.id, order_type="new", desk_id=w.desk_id)
    db.session.commit()
    with pytest.raises(Conflict, match="pågående kortbeställning"):
        service.remove_person_entry(ctx(w), made.id)
    db.session.rollback()
    assert db.session.get(Person, made.id).removed_at is None
