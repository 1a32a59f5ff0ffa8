"""The order workflow: order → approval → production → at desk → hand-over → active.

Every act checks ``states.check``, changes status with a compare-and-set UPDATE (two concurrent deciders:
exactly one wins), and writes its audit row in the caller's transaction. Services flush; edges commit.
Revocation, expiry and support cases are in ``cards``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cardadmin import audit
from cardadmin.accounts.models import Desk, User
from cardadmin.db import db, utcnow
from cardadmin.errors import CardAdminError, Conflict, Forbidden, InputProblems, InvalidInput, NotFound
from cardadmin.orders import states
from cardadmin.orders.card_rules import check_expiry_for_registration, has_expired, normalise_card_number
from cardadmin.orders.models import Card, DocumentType, IdentityCheck, Order, OrderType
from cardadmin.orders.queries import get_order
from cardadmin.orders.states import Status
from cardadmin.outbox import service as outbox
from cardadmin.people.models import Person
from cardadmin.people.service import lock_person, visible_persons
from cardadmin.roles import Role
from cardadmin.security import require_role
from cardadmin.timefmt import today
from cardadmin.validation import free_text, hsa_id_input


def transition(order: Order, target: Status, actor: Any, **values: Any) -> states.Transition:
    """Move ``order`` to ``target`` if the table allows it, as a compare-and-set on the status it was read with.

    On PostgreSQL a concurrent UPDATE of the same row waits for the first to commit and then finds the status
    changed, so it updates nothing: the loser gets a Conflict and the caller rolls back."""
    step = states.check(order.status, target, actor)
    expected = order.status
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == expected)
        .values(status=str(target), **{step.timestamp: utcnow()}, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Beställningen är redan hanterad (status nu: {Status(order.status).label}).")
    return step


def _record(actor: Any, action: str, order: Order, data: dict[str, Any] | None = None) -> None:
    base = {"status": order.status, "person_id": order.person_id, "desk_id": order.desk_id}
    audit.record(db.session, actor, action, "order", order.id, {**base, **(data or {})},
                 organisation_id=order.organisation_id)


# ---------------------------------------------------------------- ordering


def create_order(actor: User, *, person_id: int, order_type: str, desk_id: int, comment: str = "") -> Order:
    require_role(actor, Role.ORDERER)
    person = db.session.scalar(visible_persons(actor).where(Person.id == person_id))
    if person is None:
        raise NotFound("Personen finns inte.")
    lock_person(person)  # an HSA removal racing this order waits, or is waited for (hsa.remove_person_entry)
    if person.removed_at is not None:
        raise Conflict(f"HSA-posten för {person.hsa_id} är borttagen; ett kort kan inte beställas för den.")
    if person.organisation_id != actor.organisation_id and not actor.has_role(Role.ADMIN):
        raise Forbidden("Du kan bara beställa kort för personer i din egen organisation.")
    try:
        kind = OrderType(order_type)
    except ValueError:
        raise InvalidInput("Välj en giltig beställningstyp.", field="order_type") from None
    desk = db.session.get(Desk, desk_id)
    if desk is None or not desk.active:
        raise InvalidInput("Välj en öppen kortutlämning.", field="desk_id")
    comment = free_text(comment, "Kommentar", where="kommentaren", max_length=1000, required=False)
    pending = db.session.scalar(select(Order.id).where(Order.person_id == person.id, Order.status.in_(states.OPEN)))
    if pending is not None:
        raise Conflict(f"Det finns redan en pågående beställning för den här personen (beställning {pending}).")
    live = db.session.scalar(
        select(Card).where(Card.person_id == person.id, Card.status.in_(states.CARD_LIVE)).order_by(Card.id.desc())
    )
    if live is not None and not kind.is_replacement:
        raise InvalidInput("Personen har redan ett aktivt kort. Välj ett ersättningsskäl (förlorat, stulet, skadat, "
                           "går ut eller namnbyte).", field="order_type")
    replaces = live
    if kind.is_replacement and replaces is None:
        # Replacing a card already revoked (e.g. reported lost first): link the person's latest card.
        replaces = db.session.scalar(select(Card).where(Card.person_id == person.id).order_by(Card.id.desc()))
        if replaces is None:
            raise InvalidInput("Personen har inget kort att ersätta. Välj Nytt kort.", field="order_type")
    order = Order(order_type=str(kind), status=Status.ORDERED, person_id=person.id, orderer_id=actor.id,
                  organisation_id=person.organisation_id, desk_id=desk.id, comment=comment,
                  replaces_card_id=replaces.id if replaces is not None and kind.is_replacement else None)
    db.session.add(order)
    db.session.flush()
    _record(actor, "order.create", order, {"order_type": order.order_type, "hsa_id": person.hsa_id,
                                           "replaces_card_id": order.replaces_card_id})
    return order


def cancel(actor: User, order_id: int, reason: str = "") -> Order:
    order = get_order(actor, order_id)
    if not actor.has_role(Role.ADMIN) and order.orderer_id != actor.id:
        raise Forbidden("Bara den som beställde kan makulera beställningen.")
    reason = free_text(reason, "Skäl", where="skälet", max_length=1000, required=False)
    transition(order, Status.CANCELLED, actor, decision_reason=reason)
    _record(actor, "order.cancel", order, {"reason": reason})
    return order


# ---------------------------------------------------------------- RA decision


def _hsa_key(value: str | None) -> str:
    return (value or "").strip().casefold()


def is_own_card(actor: Any, order: Order) -> bool:
    """Whether ``order``'s card is for ``actor`` themselves: the actor's HSA-ID is the recipient's (compared
    case-insensitively, after strip; a user without an HSA-ID matches nobody). The four-eyes rule: nobody
    decides on, produces, registers, verifies, identity-checks, hands over or accepts their own card, whoever
    ordered it. Every such act refuses through ``refuse_own_card``; pages ask this before offering one."""
    mine = _hsa_key(getattr(actor, "hsa_id", None))
    return bool(mine) and mine == _hsa_key(order.person.hsa_id)


def refuse_own_card(actor: Any, order: Order, message: str) -> None:
    if is_own_card(actor, order):
        raise Forbidden(message)


OWN_DECISION = "Du kan inte godkänna eller avslå en beställning av ditt eget kort (fyraögonsprincipen)."
OWN_DESK_STEP = ("Du kan inte hantera ditt eget kort (tillverkning, verifiering, identitetskontroll och utlämning). "
                 "En annan korthandläggare måste göra det (fyraögonsprincipen).")


def may_decide(actor: Any, order: Order) -> bool:
    """Whether ``actor`` may approve or reject ``order`` now (the RA pages offer the decision exactly then)."""
    return (actor.has_role(Role.RA_OFFICER) and order.status == Status.ORDERED
            and order.organisation_id == actor.organisation_id and order.orderer_id != actor.id
            and not is_own_card(actor, order))


def _decidable(actor: User, order_id: int) -> Order:
    require_role(actor, Role.RA_OFFICER)
    order = get_order(actor, order_id)
    if order.organisation_id != actor.organisation_id:
        raise Forbidden("Du kan bara besluta om beställningar för din egen organisations personal.")
    if order.orderer_id == actor.id:
        raise Forbidden("Du kan inte besluta om en beställning du själv har gjort (fyraögonsprincipen).")
    refuse_own_card(actor, order, OWN_DECISION)
    if order.status != Status.ORDERED:
        raise Conflict(f"Beställningen är redan hanterad (status: {Status(order.status).label}).")
    return order


def approve(actor: User, order_id: int) -> Order:
    order = _decidable(actor, order_id)
    transition(order, Status.APPROVED, actor, decided_by_id=actor.id)
    _record(actor, "order.approve", order)
    outbox.order_decided(order)
    return order


def reject(actor: User, order_id: int, reason: str) -> Order:
    reason = free_text(reason, "Skäl för avslag", where="skälet för avslaget", max_length=1000)
    order = _decidable(actor, order_id)
    transition(order, Status.REJECTED, actor, decided_by_id=actor.id, decision_reason=reason)
    _record(actor, "order.reject", order, {"reason": reason})
    outbox.order_decided(order)
    return order


def decide_many(actor: User, order_ids: list[int], *, approve_them: bool, reason: str = "") -> dict[int, str | None]:
    """Approve or reject several orders; each in its own savepoint. Returns {id: None (done) | Swedish error}."""
    results: dict[int, str | None] = {}
    for order_id in dict.fromkeys(order_ids):  # once each, in the order given
        try:
            with db.session.begin_nested():
                if approve_them:
                    approve(actor, order_id)
                else:
                    reject(actor, order_id, reason)
            results[order_id] = None
        except CardAdminError as exc:
            results[order_id] = exc.message
    return results


# ---------------------------------------------------------------- the desk


def works_at_desk_of(actor: Any, order: Order) -> bool:
    """Whether ``actor`` is a card administrator at the desk where ``order`` is collected."""
    return actor.has_role(Role.CARD_ADMIN) and order.desk_id in {d.id for d in actor.desks}


def may_take_desk_steps(actor: Any, order: Order) -> bool:
    """Whether ``actor`` may take ``order``'s desk steps (production, registration, verification, hand-over,
    acceptance): a card administrator at its desk, and not the recipient. Pages ask it before offering them."""
    return works_at_desk_of(actor, order) and not is_own_card(actor, order)


def at_my_desk(actor: User, order: Order) -> Order:
    if not works_at_desk_of(actor, order):
        raise Forbidden("Beställningen hämtas ut vid en annan kortutlämning än dina.")
    return order


def _at_my_desk(actor: User, order_id: int) -> Order:
    """The order for one of the actor's desk steps: at their desk, and not their own card."""
    require_role(actor, Role.CARD_ADMIN)
    order = at_my_desk(actor, get_order(actor, order_id))
    refuse_own_card(actor, order, OWN_DESK_STEP)
    return order


def mark_in_production(actor: User, order_id: int) -> Order:
    order = _at_my_desk(actor, order_id)
    transition(order, Status.IN_PRODUCTION, actor)
    _record(actor, "order.in_production", order)
    return order


def mark_at_desk(actor: User, order_id: int, card_number: str, *, expires_on: date | None = None) -> Order:
    """The card is produced and locked away at the desk; its number is registered here."""
    order = _at_my_desk(actor, order_id)
    number = normalise_card_number(card_number)
    check_expiry_for_registration(expires_on, today())
    states.check(order.status, Status.AT_DESK, actor)  # refuse before creating anything
    if db.session.scalar(select(Card.id).where(Card.card_number == number)) is not None:
        raise Conflict(f"Kortnumret {number} är redan registrerat.")
    card = Card(card_number=number, person_id=order.person_id, organisation_id=order.organisation_id,
                desk_id=order.desk_id, status=Status.AT_DESK, expires_on=expires_on, replaces_id=order.replaces_card_id)
    db.session.add(card)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(f"Kortnumret {number} är redan registrerat.") from None
    transition(order, Status.AT_DESK, actor, card_id=card.id)
    _record(actor, "order.at_desk", order, {"card_id": card.id, "card_number": number})
    audit.record(db.session, actor, "card.register", "card", card.id,
                 {"card_number": number, "order_id": order.id, "person_id": order.person_id,
                  "expires_on": expires_on.isoformat() if expires_on else None},
                 organisation_id=order.organisation_id)
    outbox.card_at_desk(order, current_app.config["UNCOLLECTED_DAYS"])
    return order


@dataclass
class IdentityInput:
    method: str  # "document" or "witness"
    document_type: str | None = None
    document_valid_until: date | None = None
    document_number: str | None = None  # as typed; only the last four characters are kept
    witness_name: str | None = None
    witness_hsa_id: str | None = None


def _identity_fields(actor: User, person: Person, data: IdentityInput) -> dict[str, Any]:
    """The identity check as stored, or an InvalidInput naming every field's problem at once."""
    problems = InputProblems()
    if data.method == "document":
        if data.document_type not in set(DocumentType):
            problems.errors["document_type"] = "Välj vilken id-handling som visades."
        if data.document_valid_until is None:
            problems.errors["document_valid_until"] = "Ange id-handlingens giltighetstid."
        elif data.document_valid_until < today():
            problems.errors["document_valid_until"] = "Id-handlingen har gått ut och kan inte godtas."
        digits = re.sub(r"[^0-9A-Za-z]", "", data.document_number or "")
        if len(digits) < 4:
            problems.errors["document_number"] = "Ange id-handlingens nummer (minst de fyra sista tecknen)."
        problems.raise_any()
        return {"method": "document", "document_type": str(data.document_type),
                "document_valid_until": data.document_valid_until, "document_number_last4": digits[-4:].upper()}
    if data.method == "witness":
        name = hsa_id = None
        with problems.check("witness_name"):
            name = free_text(data.witness_name, "Vittnets namn", where="vittnets namn", max_length=200)
        with problems.check("witness_hsa_id"):
            hsa_id = hsa_id_input(data.witness_hsa_id, "Vittnets HSA-id")
        is_me = (hsa_id is not None and hsa_id == actor.hsa_id) or \
            (name is not None and name.casefold() == actor.full_name.strip().casefold())
        if is_me:
            problems.errors.setdefault("witness_hsa_id",
                                       "Vittnet får inte vara den korthandläggare som lämnar ut kortet.")
        elif hsa_id is not None and hsa_id == person.hsa_id:
            problems.errors.setdefault("witness_hsa_id", "Kortmottagaren kan inte vara sitt eget vittne.")
        problems.raise_any()
        return {"method": "witness", "witness_name": name, "witness_hsa_id": hsa_id}
    raise InvalidInput("Välj id-handling eller vittnesförfarande.", field="method")


def hand_over(actor: User, order_id: int, card_number: str, identity: IdentityInput) -> Order:
    """Identity checked and card handed over. A replacement revokes the card it replaces (reason "replaced")."""
    from cardadmin.orders.cards import revoke_as_replaced

    order = _at_my_desk(actor, order_id)
    states.check(order.status, Status.HANDED_OVER, actor)
    card = order.card
    assert card is not None  # at desk implies a card
    if has_expired(card, today()):
        raise Conflict(f"Kortet {card.card_number} gick ut {card.expires_on} och kan inte lämnas ut. Spärra det och "
                       "beställ ett ersättningskort.")
    problems = InputProblems()  # every field's problem at once
    with problems.check("card_number"):
        if normalise_card_number(card_number) != card.card_number:
            raise InvalidInput("Kortnumret stämmer inte med kortet som tillverkats för den här beställningen.")
    with problems.check():
        check = _identity_fields(actor, order.person, identity)
    problems.raise_any()
    transition(order, Status.HANDED_OVER, actor)
    now = utcnow()
    card.status, card.status_changed_at = Status.HANDED_OVER, now
    db.session.add(IdentityCheck(order_id=order.id, card_id=card.id, checked_by_id=actor.id, checked_at=now, **check))
    db.session.flush()
    logged = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in check.items()}
    _record(actor, "order.hand_over", order, {"card_id": card.id, "card_number": card.card_number,
                                              "identity": logged})
    audit.record(db.session, actor, "card.hand_over", "card", card.id, {"order_id": order.id, "identity": logged},
                 organisation_id=card.organisation_id)
    old = order.replaces_card
    if old is not None:
        revoke_as_replaced(actor, old, card)
    return order


def activate(actor: User, order_id: int) -> Order:
    """The recipient has signed the receipt and accepted the card: it is in use."""
    order = _at_my_desk(actor, order_id)
    transition(order, Status.ACTIVE, actor)
    card = order.card
    assert card is not None  # handed_over implies a card
    card.status, card.status_changed_at = Status.ACTIVE, utcnow()
    db.session.flush()
    _record(actor, "order.activate", order, {"card_id": card.id})
    audit.record(db.session, actor, "card.activate", "card", card.id, {"order_id": order.id},
                 organisation_id=card.organisation_id)
    return order
