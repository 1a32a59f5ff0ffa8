"""The order workflow through its services: audit rows, roles, four eyes, scope, bad input, races."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from cardadmin import audit
from cardadmin.audit.service import history
from cardadmin.db import db, utcnow
from cardadmin.errors import CardAdminError, Conflict, Forbidden, InvalidInput, NotFound
from cardadmin.orders import cards, queries, service, support
from cardadmin.orders.models import Card, IdentityCheck, Order, Revocation
from cardadmin.orders.service import IdentityInput
from cardadmin.orders.states import Status
from cardadmin.roles import Role
from tests.conftest import World, build_world
from tests.test_people import add_person, add_user, audit_rows, user

DOC = IdentityInput("document", "passport", date.today() + timedelta(days=365), "AB 1234 5678")


@pytest.fixture
def w(app_ctx: Any) -> World:
    return build_world()


def order_for(w: World, local: str = "P1", order_type: str = "new", desk: str = "desk") -> Order:
    person = add_person(w, local)
    order = service.create_order(user(w, "orderer"), person_id=person.id, order_type=order_type,
                                 desk_id=w.desk_id if desk == "desk" else w.other_desk_id)
    db.session.commit()
    return order


def to_status(w: World, order: Order, target: Status, card_number: str = "9752000000001") -> Order:
    """Drive an order along the happy path up to ``target``."""
    ka = user(w, "card_admin")
    steps = [
        (Status.APPROVED, lambda: service.approve(user(w, "ra_officer"), order.id)),
        (Status.IN_PRODUCTION, lambda: service.mark_in_production(ka, order.id)),
        (Status.AT_DESK, lambda: service.mark_at_desk(ka, order.id, card_number,
                                                      expires_on=date.today() + timedelta(days=5 * 365))),
        (Status.HANDED_OVER, lambda: service.hand_over(ka, order.id, card_number, DOC)),
        (Status.ACTIVE, lambda: service.activate(ka, order.id)),
    ]
    for status, step in steps:
        if order.status == target:
            break
        step()
        db.session.commit()
        assert order.status == status
    return order


def actions(target_type: str, target_id: object) -> list[str]:
    return [e.action for e in history(db.session, target_type, target_id)]


def test_happy_path_writes_every_step_and_its_audit_row(w: World) -> None:
    order = to_status(w, order_for(w), Status.ACTIVE)
    assert actions("order", order.id) == ["order.create", "order.approve", "order.in_production", "order.at_desk",
                                          "order.hand_over", "order.activate"]
    assert {e.organisation_id for e in history(db.session, "order", order.id)} == {w.region_id}
    assert actions("card", order.card_id) == ["card.register", "card.hand_over", "card.activate"]
    stamps = [order.created_at, order.approved_at, order.in_production_at, order.at_desk_at, order.handed_over_at,
              order.active_at]
    assert all(stamps) and stamps == sorted(stamps)
    assert order.decided_by_id == w.users["ra_officer"].id
    assert order.card is not None and order.card.status == Status.ACTIVE
    check = db.session.scalar(select(IdentityCheck).where(IdentityCheck.order_id == order.id))
    assert check is not None and check.document_number_last4 == "5678"
    assert check.checked_by_id == w.users["card_admin"].id
    hand_over = history(db.session, "order", order.id)[4]
    assert hand_over.actor_name == "card_admin" and "1234" not in hand_over.data
    assert json.loads(hand_over.data)["identity"]["document_type"] == "passport"
    assert audit.verify(db.session).ok


def test_four_eyes_the_orderer_never_approves(w: World) -> None:
    boss = add_user(w, "chef", [Role.ORDERER, Role.RA_OFFICER], w.region_id)
    person = add_person(w, "FE")
    order = service.create_order(boss, person_id=person.id, order_type="new", desk_id=w.desk_id)
    db.session.commit()
    with pytest.raises(Forbidden, match="fyraögonsprincipen"):
        service.approve(boss, order.id)
    with pytest.raises(Forbidden, match="fyraögonsprincipen"):
        service.reject(boss, order.id, "nej")
    assert order.status == Status.ORDERED and audit_rows("order.approve") == []
    service.approve(user(w, "ra_officer"), order.id)
    assert order.status == Status.APPROVED


def test_ra_scope_another_organisations_officer_cannot_see_or_approve(w: World) -> None:
    order = order_for(w)
    ra_kommun = user(w, "ra_kommun")
    with pytest.raises(NotFound):
        service.approve(ra_kommun, order.id)
    with pytest.raises(NotFound):
        queries.get_order(ra_kommun, order.id)
    assert queries.ra_queue(ra_kommun) == []
    assert db.session.scalars(queries.visible_orders(ra_kommun)).all() == []
    assert queries.ra_queue(user(w, "ra_officer")) == [order]
    assert audit_rows("order.approve") == []


def test_a_municipal_officer_who_also_runs_the_desk_still_cannot_approve_region_staff(w: World) -> None:
    both = add_user(w, "ka_ra", [Role.CARD_ADMIN, Role.RA_OFFICER], w.municipality_id, [w.desk_id])
    order = order_for(w)
    assert queries.get_order(both, order.id) == order  # visible through the desk
    with pytest.raises(Forbidden, match="egen organisation"):
        service.approve(both, order.id)


def test_scope_matrix_per_role(w: World) -> None:
    at_my_desk, elsewhere = order_for(w, "A1"), order_for(w, "A2", desk="other")
    other_orderer = add_user(w, "orderer2", [Role.ORDERER], w.region_id)

    def seen(name: str) -> set[int]:
        actor = other_orderer if name == "orderer2" else user(w, name)
        return {o.id for o in db.session.scalars(queries.visible_orders(actor))}

    both = {at_my_desk.id, elsewhere.id}
    assert seen("ra_officer") == both and seen("orderer") == both and seen("admin") == both
    assert seen("card_admin") == {at_my_desk.id}
    assert seen("ra_kommun") == set() and seen("evaluator") == set() and seen("orderer2") == set()
    with pytest.raises(NotFound):
        service.mark_in_production(user(w, "card_admin"), elsewhere.id)


@pytest.mark.parametrize("who", ["orderer", "card_admin", "evaluator", "admin"])
def test_only_ra_officers_decide(w: World, who: str) -> None:
    order = order_for(w)
    with pytest.raises(Forbidden):
        service.approve(user(w, who), order.id)
    with pytest.raises(Forbidden):
        service.reject(user(w, who), order.id, "nej")


@pytest.mark.parametrize("who", ["orderer", "ra_officer", "evaluator", "admin"])
def test_only_card_admins_work_the_desk(w: World, who: str) -> None:
    order = to_status(w, order_for(w), Status.APPROVED)
    with pytest.raises(Forbidden):
        service.mark_in_production(user(w, who), order.id)


def test_already_handled_and_out_of_order_steps_are_conflicts(w: World) -> None:
    order = to_status(w, order_for(w), Status.APPROVED)
    ra, ka = user(w, "ra_officer"), user(w, "card_admin")
    with pytest.raises(Conflict, match="redan hanterad"):
        service.approve(ra, order.id)
    with pytest.raises(Conflict, match="redan hanterad"):
        service.reject(ra, order.id, "för sent")
    with pytest.raises(Conflict, match="kan inte bli"):
        service.mark_at_desk(ka, order.id, "9752000000009")
    with pytest.raises(Conflict, match="kan inte bli"):
        service.activate(ka, order.id)
    with pytest.raises(Conflict, match="kan inte bli"):
        service.cancel(user(w, "orderer"), order.id)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Card)) == 0
    assert order.status == Status.APPROVED and len(audit_rows("order.approve")) == 1


def test_reject_needs_a_reason_and_is_final(w: World) -> None:
    order = order_for(w)
    ra = user(w, "ra_officer")
    with pytest.raises(InvalidInput, match="Skäl för avslag"):
        service.reject(ra, order.id, "  ")
    service.reject(ra, order.id, "Fel enhet")
    db.session.commit()
    assert (order.status, order.decision_reason) == (Status.REJECTED, "Fel enhet") and order.rejected_at
    assert json.loads(audit_rows("order.reject")[0].data)["reason"] == "Fel enhet"
    with pytest.raises(Conflict, match="redan hanterad"):
        service.approve(ra, order.id)


def test_cancel_is_the_orderers_own(w: World) -> None:
    order = order_for(w)
    with pytest.raises(NotFound):
        service.cancel(add_user(w, "orderer2", [Role.ORDERER], w.region_id), order.id)
    service.cancel(user(w, "orderer"), order.id, "Dubblett")
    assert order.status == Status.CANCELLED and order.cancelled_at and actions("order", order.id)[-1] == "order.cancel"


def test_create_order_bad_input(w: World) -> None:
    person = add_person(w, "BI")
    orderer = user(w, "orderer")
    with pytest.raises(InvalidInput, match="beställningstyp"):
        service.create_order(orderer, person_id=person.id, order_type="gratis", desk_id=w.desk_id)
    with pytest.raises(InvalidInput, match="kortutlämning"):
        service.create_order(orderer, person_id=person.id, order_type="new", desk_id=9999)
    with pytest.raises(NotFound):
        service.create_order(orderer, person_id=9999, order_type="new", desk_id=w.desk_id)
    kommun_person = add_person(w, "KP", org="kommun")
    with pytest.raises(NotFound):
        service.create_order(orderer, person_id=kommun_person.id, order_type="new", desk_id=w.desk_id)
    with pytest.raises(Forbidden):
        service.create_order(user(w, "ra_officer"), person_id=person.id, order_type="new", desk_id=w.desk_id)
    service.create_order(orderer, person_id=person.id, order_type="new", desk_id=w.desk_id)
    db.session.commit()
    with pytest.raises(Conflict, match="pågående"):  # double submission
        service.create_order(orderer, person_id=person.id, order_type="new", desk_id=w.desk_id)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_card_number_is_validated_and_unique(w: World) -> None:
    first = to_status(w, order_for(w, "C1"), Status.AT_DESK, "9752 0000 0000 1")
    assert first.card is not None and first.card.card_number == "9752000000001"
    second = to_status(w, order_for(w, "C2"), Status.IN_PRODUCTION)
    ka = user(w, "card_admin")
    with pytest.raises(InvalidInput, match="Kortnumret"):
        service.mark_at_desk(ka, second.id, "12;DROP")
    with pytest.raises(Conflict, match="redan registrerat"):
        service.mark_at_desk(ka, second.id, "9752000000001")


def test_hand_over_with_the_wrong_card_number_changes_nothing(w: World) -> None:
    order = to_status(w, order_for(w), Status.AT_DESK)
    before = len(audit_rows())
    with pytest.raises(InvalidInput, match="stämmer inte"):
        service.hand_over(user(w, "card_admin"), order.id, "9752000000002", DOC)
    db.session.rollback()
    assert order.status == Status.AT_DESK and len(audit_rows()) == before
    assert db.session.scalar(select(func.count()).select_from(IdentityCheck)) == 0


@pytest.mark.parametrize(("identity", "message"), [
    (IdentityInput("witness", witness_name="Card_Admin", witness_hsa_id="SE2120002650-W1"), "Vittnet får inte"),
    (IdentityInput("witness", witness_name="Nils Nilsson", witness_hsa_id="SE2120002650-KA1"), "Vittnet får inte"),
    (IdentityInput("witness", witness_name="Anna Berg", witness_hsa_id="SE2321000222-P1"), "sitt eget vittne"),
    (IdentityInput("witness", witness_name="Nils Nilsson", witness_hsa_id="SE123"), "HSA-id"),
    (IdentityInput("document", "passport", date.today() - timedelta(days=1), "12345678"), "gått ut"),
    (IdentityInput("document", "library_card", date.today(), "12345678"), "id-handling"),
    (IdentityInput("document", "passport", date.today(), "12"), "fyra sista"),
    (IdentityInput("selfie"), "vittnesförfarande"),
])
def test_hand_over_identity_check_refusals(w: World, identity: IdentityInput, message: str) -> None:
    order = to_status(w, order_for(w), Status.AT_DESK)
    ka = user(w, "card_admin")
    ka.hsa_id = "SE2120002650-KA1"
    db.session.commit()
    with pytest.raises(InvalidInput, match=message):
        service.hand_over(ka, order.id, "9752000000001", identity)
    db.session.rollback()
    assert order.status == Status.AT_DESK and audit_rows("order.hand_over") == []


def test_witness_procedure(w: World) -> None:
    order = to_status(w, order_for(w), Status.AT_DESK)
    witness = IdentityInput("witness", witness_name="Nils Nilsson", witness_hsa_id="SE2321000222-W9")
    service.hand_over(user(w, "card_admin"), order.id, "9752000000001", witness)
    check = db.session.scalar(select(IdentityCheck).where(IdentityCheck.order_id == order.id))
    assert check is not None and (check.method, check.witness_hsa_id, check.document_type) == (
        "witness", "SE2321000222-W9", None)


def test_a_replacement_needs_a_replacement_type_and_revokes_the_old_card(w: World) -> None:
    old_order = to_status(w, order_for(w, "R1"), Status.ACTIVE, "9752000000001")
    old_card = old_order.card
    assert old_card is not None
    orderer = user(w, "orderer")
    with pytest.raises(InvalidInput, match="ersättningsskäl"):
        service.create_order(orderer, person_id=old_order.person_id, order_type="new", desk_id=w.desk_id)
    new_order = service.create_order(orderer, person_id=old_order.person_id, order_type="replacement_damaged",
                                     desk_id=w.desk_id)
    db.session.commit()
    assert new_order.replaces_card_id == old_card.id
    to_status(w, new_order, Status.HANDED_OVER, "9752000000002")
    new_card = new_order.card
    assert new_card is not None
    assert old_card.status == Status.REVOKED and old_order.status == Status.REVOKED and old_order.revoked_at
    assert (old_card.replaced_by_id, new_card.replaces_id) == (new_card.id, old_card.id)
    revocation = db.session.scalar(select(Revocation).where(Revocation.card_id == old_card.id))
    assert revocation is not None and revocation.reason == "replaced"
    assert revocation.recorded_by_id == w.users["card_admin"].id
    assert revocation.retain_until.year == revocation.revoked_at.year + 10
    assert actions("card", old_card.id)[-1] == "card.revoke"
    assert json.loads(history(db.session, "card", old_card.id)[-1].data)["reason"] == "replaced"


def test_a_lost_card_revoked_first_is_not_revoked_twice(w: World) -> None:
    old_order = to_status(w, order_for(w, "L1"), Status.ACTIVE, "9752000000001")
    assert old_order.card_id is not None
    cards.revoke_card(user(w, "card_admin"), old_order.card_id, "lost", "Anna Berg, telefon")
    db.session.commit()
    new_order = service.create_order(user(w, "orderer"), person_id=old_order.person_id, order_type="new",
                                     desk_id=w.desk_id)  # no live card any more: a new card is fine
    db.session.commit()
    to_status(w, new_order, Status.HANDED_OVER, "9752000000002")
    assert db.session.scalar(select(func.count()).select_from(Revocation)) == 1


def test_revocation_rules_and_retention(w: World) -> None:
    order = to_status(w, order_for(w), Status.ACTIVE)
    card_id = order.card_id
    assert card_id is not None
    with pytest.raises(NotFound):
        cards.revoke_card(user(w, "ra_kommun"), card_id, "lost", "Anna")
    with pytest.raises(Forbidden):
        cards.revoke_card(user(w, "evaluator"), card_id, "lost", "Anna")
    with pytest.raises(InvalidInput, match="skäl"):
        cards.revoke_card(user(w, "ra_officer"), card_id, "tired", "Anna")
    with pytest.raises(InvalidInput, match="Vem begärde"):
        cards.revoke_card(user(w, "ra_officer"), card_id, "lost", "")
    row = cards.revoke_card(user(w, "ra_officer"), card_id, "stolen", "Anna Berg")
    db.session.commit()
    assert order.status == Status.REVOKED
    with pytest.raises(Conflict, match="redan spärrat"):
        cards.revoke_card(user(w, "ra_officer"), card_id, "lost", "Anna")
    with pytest.raises(Conflict, match="sparas till"):
        cards.delete_revocation(user(w, "admin"), row.id)
    with pytest.raises(Conflict, match="sparas till"):  # the model refuses too, whoever asks
        db.session.delete(row)
        db.session.flush()
    db.session.rollback()
    assert db.session.get(Revocation, row.id) is not None
    row.retain_until = utcnow() - timedelta(days=1)
    db.session.commit()
    with pytest.raises(Forbidden):
        cards.delete_revocation(user(w, "card_admin"), row.id)
    cards.delete_revocation(user(w, "admin"), row.id)
    db.session.commit()
    assert db.session.get(Revocation, row.id) is None and audit_rows("revocation.delete")


def test_uncollected_card_revoked_by_the_system_and_expiry(w: World) -> None:
    waiting = to_status(w, order_for(w, "N1"), Status.AT_DESK, "9752000000001")
    assert waiting.card_id is not None
    cards.revoke_card(None, waiting.card_id, "not_collected", "Rensning (90 dagar)")
    assert waiting.status == Status.REVOKED and audit_rows("card.revoke")[0].actor_name == "system"
    active = to_status(w, order_for(w, "N2"), Status.ACTIVE, "9752000000002")
    card = active.card
    assert card is not None
    with pytest.raises(Conflict, match="utgångsdatum"):
        cards.expire_card(None, card.id)
    card.expires_on = date.today() - timedelta(days=1)
    with pytest.raises(Forbidden):
        cards.expire_card(user(w, "card_admin"), card.id)
    cards.expire_card(None, card.id)
    assert (card.status, active.status) == (Status.EXPIRED, Status.EXPIRED) and active.expired_at


def test_queues_are_oldest_first_with_keyset_pages(w: World) -> None:
    orders = [order_for(w, f"Q{i}") for i in range(5)]
    ra = user(w, "ra_officer")
    seen: list[Order] = []
    cursor = None
    while page := queries.ra_queue(ra, after=cursor, limit=2):
        seen += page
        cursor = queries.cursor_of(page[-1])
    assert seen == orders
    service.approve(ra, orders[3].id)
    service.approve(ra, orders[1].id)
    assert queries.desk_queue(user(w, "card_admin"), Status.APPROVED) == [orders[1], orders[3]]
    assert queries.desk_queue(user(w, "card_admin"), Status.APPROVED, desk_id=w.other_desk_id) == []
    assert queries.desk_queue(user(w, "ra_officer"), Status.APPROVED) == []
    assert queries.my_orders(user(w, "orderer"), limit=3) == orders[:3]
    with pytest.raises(InvalidInput):
        queries.ra_queue(ra, limit=0)


def test_decide_many_reports_per_item(w: World) -> None:
    mine, handled = order_for(w, "M1"), order_for(w, "M2")
    service.approve(user(w, "ra_officer"), handled.id)
    results = service.decide_many(user(w, "ra_officer"), [mine.id, handled.id, 9999], approve_them=True)
    assert results[mine.id] is None and "redan hanterad" in (results[handled.id] or "")
    assert "finns inte" in (results[9999] or "")
    assert mine.status == Status.APPROVED and len(audit_rows("order.approve")) == 2


def test_support_case(w: World) -> None:
    order = to_status(w, order_for(w), Status.ACTIVE)
    case = support.open_support_case(user(w, "card_admin"), support.SupportInput(
        "pin_puk", "phone", out_of_hours=True, card_id=order.card_id, minutes_spent=15,
        description="PIN spärrad efter tre försök"))
    assert (case.person_id, case.organisation_id, case.desk_id) == (order.person_id, w.region_id, w.desk_id)
    (row,) = audit_rows("support_case.create")
    assert json.loads(row.data)["minutes_spent"] == 15 and "PIN spärrad" not in row.data
    with pytest.raises(InvalidInput):
        support.open_support_case(user(w, "card_admin"), support.SupportInput("pin_puk", "phone", minutes_spent=-1))
    with pytest.raises(Forbidden):
        support.open_support_case(user(w, "orderer"), support.SupportInput("question", "desk"))


def test_support_case_links_only_cards_in_the_users_scope(w: World) -> None:
    order = to_status(w, order_for(w), Status.ACTIVE)
    elsewhere = add_user(w, "ka_umea", [Role.CARD_ADMIN], w.region_id, [w.other_desk_id])
    with pytest.raises(NotFound):
        support.open_support_case(elsewhere, support.SupportInput("lost_card", "phone", card_id=order.card_id))
    db.session.rollback()
    assert audit_rows("support_case.create") == []


@pytest.mark.postgres
def test_two_ra_officers_approving_at_once_exactly_one_wins(make_app: Any, app: Any) -> None:
    with app.app_context():
        world = build_world()
        second_ra = add_user(world, "ra_two", [Role.RA_OFFICER], world.region_id)
        order_id, officers = order_for(world).id, [world.users["ra_officer"].id, second_ra.id]
    apps = [app, make_app()]  # two workers on one database
    barrier = threading.Barrier(2)
    outcome: dict[int, str] = {}

    def decide(index: int) -> None:
        with apps[index].app_context():
            from cardadmin.accounts.models import User

            actor = db.session.get(User, officers[index])
            queries.get_order(actor, order_id)  # both have read "ordered" before either writes
            barrier.wait(timeout=10)
            try:
                service.approve(actor, order_id)
                db.session.commit()
                outcome[index] = "approved"
            except CardAdminError as exc:
                db.session.rollback()
                outcome[index] = f"{type(exc).__name__}: {exc.message}"

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert list(outcome.values()).count("approved") == 1, outcome
    (loser,) = [v for v in outcome.values() if v != "approved"]
    # "status nu": the loser passed the read-time check and lost at the compare-and-set UPDATE
    assert loser == "Conflict: Beställningen är redan hanterad (status nu: Godkänd).", outcome
    with app.app_context():
        assert len(audit_rows("order.approve")) == 1
        order = db.session.get(Order, order_id)
        assert order is not None and order.status == Status.APPROVED
        assert order.decided_by_id == officers[[k for k, v in outcome.items() if v == "approved"][0]]
        assert audit.verify(db.session).ok


def test_replacement_after_a_revocation_links_the_old_card(w: World) -> None:
    first = to_status(w, order_for(w), Status.ACTIVE)
    cards.revoke_card(user(w, "card_admin"), first.card_id, "lost", requested_by="Anna Berg")
    db.session.commit()
    replacement = service.create_order(user(w, "orderer"), person_id=first.person_id,
                                       order_type="replacement_lost", desk_id=w.desk_id)
    db.session.commit()
    assert replacement.replaces_card_id == first.card_id
    to_status(w, replacement, Status.HANDED_OVER, card_number="9752000000002")
    old, new = db.session.get(Card, first.card_id), db.session.get(Card, replacement.card_id)
    assert (old.replaced_by_id, new.replaces_id) == (new.id, old.id)
    assert old.status == Status.REVOKED
    assert len(audit_rows("card.revoke")) == 1  # not revoked a second time as "replaced"


def test_no_order_for_a_removed_hsa_entry(w: World) -> None:
    from tests.test_people import add_person

    person = add_person(w, "GONE1")
    person.removed_at = utcnow()
    db.session.commit()
    with pytest.raises(Conflict, match="borttagen"):
        service.create_order(user(w, "orderer"), person_id=person.id, order_type="new", desk_id=w.desk_id)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0 and audit_rows("order.create") == []


def test_a_replacement_needs_a_card_to_replace(w: World) -> None:
    """A person who never had a card gets a new card, not a 'replacement for a lost card' (UX review)."""
    orderer = user(w, "orderer")
    person = add_person(w, "NOCARD")
    with pytest.raises(InvalidInput, match="inget kort att ersätta"):
        service.create_order(orderer, person_id=person.id, order_type="replacement_lost", desk_id=w.desk_id)
    first = service.create_order(orderer, person_id=person.id, order_type="new", desk_id=w.desk_id)
    with pytest.raises(Conflict, match=f"beställning {first.id}"):
        service.create_order(orderer, person_id=person.id, order_type="new", desk_id=w.desk_id)
