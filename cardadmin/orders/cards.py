"""After hand-over: revocation (kept ten years) and expiry. Support cases are in ``support``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cardadmin import audit
from cardadmin.accounts.models import User
from cardadmin.db import db, utcnow
from cardadmin.errors import CardAdminError, Conflict, InputProblems, NotFound
from cardadmin.orders import states
from cardadmin.orders.card_rules import add_years, has_expired
from cardadmin.orders.models import REVOCATION_LABELS, Card, Order, Revocation, RevocationReason
from cardadmin.orders.queries import get_card
from cardadmin.orders.service import transition
from cardadmin.orders.states import Status
from cardadmin.roles import Role
from cardadmin.security import require_role
from cardadmin.timefmt import today
from cardadmin.validation import free_text

RETENTION_YEARS = 10


def _revoke(actor: Any, card: Card, reason: RevocationReason, requested_by: str, comment: str = "") -> Revocation:
    if card.status not in states.CARD_LIVE:
        raise Conflict(f"Kortet {card.card_number} är redan {Status(card.status).label.lower()}.")
    order = db.session.scalar(select(Order).where(Order.card_id == card.id))
    if order is not None:
        transition(order, Status.REVOKED, actor)
    else:
        states.check(card.status, Status.REVOKED, actor)
    now = utcnow()
    card.status, card.status_changed_at = Status.REVOKED, now
    row = Revocation(card_id=card.id, reason=str(reason), requested_by=requested_by, comment=comment,
                     recorded_by_id=getattr(actor, "id", None), revoked_at=now,
                     retain_until=add_years(now, RETENTION_YEARS))
    db.session.add(row)
    db.session.flush()
    audit.record(db.session, actor, "card.revoke", "card", card.id,
                 {"card_number": card.card_number, "reason": str(reason), "requested_by": requested_by,
                  "revocation_id": row.id, "order_id": order.id if order else None,
                  "retain_until": row.retain_until},
                 organisation_id=card.organisation_id)
    return row


def manual_reasons(card: Card) -> list[RevocationReason]:
    """The reasons a person may give for revoking ``card``: "replaced" is set at a replacement's hand-over, and
    "not collected" fits only a card still lying at the desk (never one the holder has)."""
    return [r for r in RevocationReason if r is not RevocationReason.REPLACED
            and (r is not RevocationReason.NOT_COLLECTED or card.status == Status.AT_DESK)]


def revoke_card(actor: User | None, card_id: int, reason: str, requested_by: str, comment: str = "") -> Revocation:
    """Revoke (spärra) a card. ``actor`` None is the scheduled sweep."""
    if actor is not None:
        require_role(actor, Role.CARD_ADMIN, Role.RA_OFFICER, Role.ADMIN)
    problems = InputProblems()
    with problems.check("requested_by"):
        requested = free_text(requested_by, "Vem begärde spärren", where="fältet Vem begärde spärren",
                              max_length=200)
    with problems.check("comment"):
        comment = free_text(comment, "Kommentar", where="kommentaren", max_length=1000, required=False)
    card = get_card(actor, card_id)
    why = next((r for r in manual_reasons(card) if r == reason), None)
    if why is None:
        problems.errors.setdefault("reason", "Välj skäl för spärren." if not reason else
                                   f"Skälet ”{REVOCATION_LABELS.get(reason, reason)}” kan inte anges för ett kort "
                                   f"med status ”{Status(card.status).label}”. Välj ett annat skäl.")
    problems.raise_any()
    assert why is not None
    return _revoke(actor, card, why, requested, comment)


def revoke_not_collected(card: Card, requested_by: str) -> Revocation:
    """The sweep (the system actor) revokes a card that waited at the desk too long, and only while it still
    lies there: a card handed over since the sweep planned its work is left alone."""
    if card.status != Status.AT_DESK:
        raise Conflict(f"Kortet {card.card_number} ligger inte längre kvar vid kortutlämningen "
                       f"({Status(card.status).label.lower()}).")
    return _revoke(None, card, RevocationReason.NOT_COLLECTED, requested_by)


def revoke_as_replaced(actor: User, old: Card, new: Card) -> None:
    """Link the two cards; revoke the old one unless that has already happened (lost, stolen, ...)."""
    if old.status in states.CARD_LIVE:
        _revoke(actor, old, RevocationReason.REPLACED, f"Ersatt av kort {new.card_number}")
    old.replaced_by_id, new.replaces_id = new.id, old.id
    db.session.flush()


def expire_card(actor: User | None, card_id: int) -> Card:
    card = get_card(actor, card_id)
    if not has_expired(card, today()):
        raise Conflict("Kortet har inte passerat sitt utgångsdatum.")
    order = db.session.scalar(select(Order).where(Order.card_id == card.id))
    if order is not None:
        transition(order, Status.EXPIRED, actor)
    else:
        states.check(card.status, Status.EXPIRED, actor)
    card.status, card.status_changed_at = Status.EXPIRED, utcnow()
    db.session.flush()
    audit.record(db.session, actor, "card.expire", "card", card.id,
                 {"card_number": card.card_number, "expires_on": card.expires_on.isoformat()},
                 organisation_id=card.organisation_id)
    return card


def delete_revocation(actor: User, revocation_id: int) -> None:
    """Only once the retention period is over (the model refuses it too, whoever asks)."""
    require_role(actor, Role.ADMIN)
    row = db.session.get(Revocation, revocation_id)
    if row is None:
        raise NotFound("Spärruppgiften finns inte.")
    if row.retain_until > utcnow():
        raise Conflict(f"Spärruppgifter ska sparas till {row.retain_until:%Y-%m-%d} och får inte tas bort.")
    audit.record(db.session, actor, "revocation.delete", "card", row.card_id,
                 {"revocation_id": row.id, "reason": row.reason, "retain_until": row.retain_until},
                 organisation_id=row.card.organisation_id)
    db.session.delete(row)
    db.session.flush()


def revoke_many(actor: User, card_ids: list[int], reason: str, requested_by: str,
                comment: str = "") -> dict[int, str | None]:
    """Revoke several cards with one reason (bulk revoke on a search result), each in its own savepoint.
    Returns {card id: None (revoked) | Swedish error}; one failure leaves the others done."""
    results: dict[int, str | None] = {}
    for card_id in dict.fromkeys(card_ids):
        try:
            with db.session.begin_nested():
                revoke_card(actor, card_id, reason, requested_by, comment)
            results[card_id] = None
        except CardAdminError as exc:
            results[card_id] = exc.message
    return results
