"""The daily sweep: remind recipients of cards waiting at the desk, revoke cards not collected in time,
and expire cards past their expiry date. Run by `cardadmin sweep` (the "system" actor of the state table).

``plan`` only reads; ``run`` acts on a plan, each item in its own savepoint, so one failing card leaves
the others done and is reported by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from cardadmin.db import db
from cardadmin.errors import CardAdminError
from cardadmin.orders import cards
from cardadmin.orders.card_rules import expired_on
from cardadmin.orders.models import Card, Order
from cardadmin.orders.states import Status
from cardadmin.outbox import service as outbox
from cardadmin.outbox.models import MessageKind, OutboxMessage
from cardadmin.timefmt import LOCAL

REMIND, REVOKE, EXPIRE = "remind", "revoke", "expire"
ACTION_LABELS = {REMIND: "Påminnelse", REVOKE: "Spärras (ej uthämtat)", EXPIRE: "Utgånget"}


@dataclass
class SweepItem:
    action: str
    card_id: int
    card_number: str
    order_id: int | None
    days: int  # days waiting at the desk, or days past the expiry date
    error: str | None = None  # set by run() when this item could not be done


def _waiting(now: datetime, at_least_days: int) -> list[Order]:
    cutoff = now - timedelta(days=at_least_days)
    return list(db.session.scalars(
        select(Order).where(Order.status == Status.AT_DESK, Order.at_desk_at <= cutoff)
        .order_by(Order.at_desk_at, Order.id)))


def _days(now: datetime, then: datetime) -> int:
    return (now - then).days


def plan(now: datetime, *, uncollected_days: int, reminder_days: tuple[int, ...]) -> list[SweepItem]:
    items: list[SweepItem] = []
    for order in _waiting(now, uncollected_days):
        assert order.card is not None and order.at_desk_at is not None  # at desk implies both
        items.append(SweepItem(REVOKE, order.card.id, order.card.card_number, order.id,
                               _days(now, order.at_desk_at)))
    revoking = {i.order_id for i in items}
    if reminder_days:
        sent = set(db.session.scalars(select(OutboxMessage.dedupe_key)
                                      .where(OutboxMessage.kind == MessageKind.REMINDER)))
        for order in _waiting(now, min(reminder_days)):
            if order.id in revoking:
                continue
            assert order.card is not None and order.at_desk_at is not None
            waited = _days(now, order.at_desk_at)
            due = [d for d in reminder_days if d <= waited]
            # Only the latest threshold passed: a card found at day 65 gets the 60-day reminder, not both.
            if due and f"{MessageKind.REMINDER}:{due[-1]}:{order.id}" not in sent:
                items.append(SweepItem(REMIND, order.card.id, order.card.card_number, order.id, due[-1]))
    today: date = now.astimezone(LOCAL).date()
    for card in db.session.scalars(select(Card).where(Card.status == Status.ACTIVE, expired_on(today))
                                   .order_by(Card.expires_on, Card.id)):
        assert card.expires_on is not None
        order_id = db.session.scalar(select(Order.id).where(Order.card_id == card.id))
        items.append(SweepItem(EXPIRE, card.id, card.card_number, order_id, (today - card.expires_on).days))
    return items


def run(items: list[SweepItem], *, uncollected_days: int) -> list[SweepItem]:
    """Carry out a plan as the system. Flushes; the caller commits once."""
    for item in items:
        try:
            with db.session.begin_nested():
                if item.action == REVOKE:
                    card = db.session.get(Card, item.card_id)
                    assert card is not None
                    cards.revoke_not_collected(card, f"Automatisk spärr: ej uthämtat inom {uncollected_days} dagar")
                elif item.action == EXPIRE:
                    cards.expire_card(None, item.card_id)
                else:
                    order = db.session.get(Order, item.order_id)
                    assert order is not None
                    outbox.reminder(order, item.days, uncollected_days)
        except CardAdminError as exc:
            item.error = exc.message
    return items
