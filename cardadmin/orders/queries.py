"""Scoped reads. The scope is part of every SELECT, so no caller can forget to filter afterwards.

RA officer: orders and cards of their own organisation's staff, whatever desk; card administrator: those of
their desks; orderer: the orders they placed (and those orders' cards); admin: everything; evaluator: nothing
here (aggregates only). A user with several roles sees the union.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import joinedload

from cardadmin.db import db, utcnow
from cardadmin.errors import InvalidInput, NotFound
from cardadmin.orders.models import Card, Order
from cardadmin.orders.states import OPEN, Status
from cardadmin.roles import Role
from cardadmin.security import Grant, role_scope
from cardadmin.web import whole_number

Cursor = tuple[datetime, int]  # keyset position: (created_at, id) of the last row shown
MAX_PAGE = 200


def _desk_ids(actor: Any) -> list[int]:
    return [d.id for d in actor.desks]


def _order_grants(actor: Any) -> list[Grant]:
    return [(Role.RA_OFFICER, Order.organisation_id == actor.organisation_id if actor.organisation_id else None),
            (Role.CARD_ADMIN, Order.desk_id.in_(_desk_ids(actor)) if actor.desks else None),
            (Role.ORDERER, Order.orderer_id == actor.id)]


def _card_grants(actor: Any) -> list[Grant]:
    return [(Role.RA_OFFICER, Card.organisation_id == actor.organisation_id if actor.organisation_id else None),
            (Role.CARD_ADMIN, Card.desk_id.in_(_desk_ids(actor)) if actor.desks else None),
            (Role.ORDERER, Card.id.in_(select(Order.card_id).where(Order.orderer_id == actor.id)))]


def order_scope(actor: Any) -> ColumnElement[bool]:
    return role_scope(actor, _order_grants)


def card_scope(actor: Any) -> ColumnElement[bool]:
    return role_scope(actor, _card_grants)


def visible_orders(actor: Any) -> Select[tuple[Order]]:
    return select(Order).where(order_scope(actor))


def visible_cards(actor: Any) -> Select[tuple[Card]]:
    return select(Card).where(card_scope(actor))


def get_order(actor: Any, order_id: int) -> Order:
    order = db.session.scalar(visible_orders(actor).where(Order.id == order_id))
    if order is None:
        raise NotFound("Beställningen finns inte.")
    return order


def get_card(actor: Any, card_id: int) -> Card:
    card = db.session.scalar(visible_cards(actor).where(Card.id == card_id))
    if card is None:
        raise NotFound("Kortet finns inte.")
    return card


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"Sidstorleken ska vara mellan 1 och {MAX_PAGE}.")


# What the order lists show of each order; a page that shows less or more says so (loading a row nobody
# reads costs a list page about as much as rendering one).
LIST_LOADS: tuple[Any, ...] = tuple(joinedload(r) for r in (Order.person, Order.desk, Order.card,
                                                             Order.organisation, Order.orderer))


# The desk queue (three lists of up to 50 on one page) shows the person, desk and card of each order.
DESK_LOADS: tuple[Any, ...] = tuple(joinedload(r) for r in (Order.person, Order.desk, Order.card))


def load_orders(ids: list[int], options: tuple[Any, ...] = LIST_LOADS) -> list[Order]:
    """The orders ``ids``, in that order, with the loader ``options`` (what is joined and loaded): one query."""
    if not ids:
        return []
    rows = select(Order).where(Order.id.in_(ids)).options(*options)
    by_id = {order.id: order for order in db.session.scalars(rows)}
    return [by_id[i] for i in ids if i in by_id]


def page_ids(stmt: Select[tuple[Order]], after: Cursor | None, limit: int) -> list[int]:
    """The ids of one page of orders, oldest first, after the keyset ``after`` (served from the indexes alone
    where they cover the filters)."""
    check_limit(limit)
    if after is not None:
        created, last_id = after
        stmt = stmt.where(or_(Order.created_at > created, and_(Order.created_at == created, Order.id > last_id)))
    return list(db.session.scalars(stmt.with_only_columns(Order.id).order_by(Order.created_at, Order.id)
                                   .limit(limit)))


def page(stmt: Select[tuple[Order]], after: Cursor | None, limit: int,
         options: tuple[Any, ...] = LIST_LOADS) -> list[Order]:
    """One page of orders: its ids (``page_ids``), then just those rows with ``load_orders``: two queries a
    page, whatever the size of the table."""
    return load_orders(page_ids(stmt, after, limit), options)


def ra_queue(actor: Any, *, after: Cursor | None = None, limit: int = 50) -> list[Order]:
    """Everything waiting for this RA officer's decision, oldest first (index ix_card_order_ra_queue)."""
    if not actor.has_role(Role.RA_OFFICER) or actor.organisation_id is None:
        return []
    stmt = select(Order).where(Order.status == Status.ORDERED, Order.organisation_id == actor.organisation_id)
    return page(stmt, after, limit, (*LIST_LOADS, joinedload(Order.replaces_card)))  # it shows the card replaced


def desk_queue(
    actor: Any, status: Status, *, desk_id: int | None = None, after: Cursor | None = None, limit: int = 50
) -> list[Order]:
    """Orders of one status at the actor's desks (or one of them), oldest first (ix_card_order_desk_queue)."""
    desks = _desk_ids(actor) if actor.has_role(Role.CARD_ADMIN) else []
    if desk_id is not None:
        desks = [d for d in desks if d == desk_id]
    if not desks:
        return []
    stmt = select(Order).where(Order.status == status, Order.desk_id.in_(desks))
    return page(stmt, after, limit, DESK_LOADS)


def my_orders(actor: Any, *, after: Cursor | None = None, limit: int = 50) -> list[Order]:
    return page(select(Order).where(Order.orderer_id == actor.id), after, limit)


def cursor_of(order: Order) -> Cursor:
    return (order.created_at, order.id)


def parse_cursor(raw: str | None) -> Cursor | None:
    """'<ISO timestamp>~<id>' from a 'next page' link (a timestamp without a zone is UTC); anything else is
    None, which the queues take as their first page."""
    stamp, _, raw_id = (raw or "").partition("~")
    last_id = whole_number(raw_id)  # ASCII digits only: '²' passes str.isdigit() and fails int()
    if not stamp or last_id is None or len(stamp) > 40:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC), last_id)


def format_cursor(order: Any) -> str:
    """The 'next page' cursor after ``order`` (an Order, or any row with its ``created_at`` and ``id``)."""
    return f"{order.created_at.isoformat()}~{order.id}"


def _not_own_card(actor: Any) -> ColumnElement[bool]:
    """The SQL of ``not service.is_own_card(actor, order)``, for counting only (every act asks the service)."""
    from cardadmin.people.models import Person

    key = (actor.hsa_id or "").strip().upper()
    if not key:
        return Order.id.is_not(None)
    return Order.person_id.not_in(select(Person.id).where(func.upper(Person.hsa_id) == key))


@dataclass
class WorkCount:
    """One line of "Att göra" on the start page: how many, and where to act on them."""

    label: str
    count: int
    endpoint: str
    warn: bool = False  # overdue work: shown highlighted


def work_counts(actor: Any, *, warn_after: timedelta) -> list[WorkCount]:
    """What waits for this user, counted on the same indexes as the queues themselves."""

    def count(stmt: Select[Any]) -> int:
        return db.session.scalar(stmt.with_only_columns(func.count()).order_by(None)) or 0

    counts: list[WorkCount] = []
    if actor.has_role(Role.RA_OFFICER) and actor.organisation_id is not None:
        waiting = select(Order).where(Order.status == Status.ORDERED, Order.organisation_id == actor.organisation_id,
                                      Order.orderer_id != actor.id, _not_own_card(actor))
        counts.append(WorkCount("Beställningar att godkänna", count(waiting), "orders.ra_queue"))
    desks = _desk_ids(actor) if actor.has_role(Role.CARD_ADMIN) else []
    if desks:
        at_mine = select(Order).where(Order.desk_id.in_(desks))
        counts.append(WorkCount("Att tillverka", count(at_mine.where(Order.status == Status.APPROVED)),
                                "desk_orders.queue"))
        at_desk = at_mine.where(Order.status == Status.AT_DESK)
        counts.append(WorkCount("Kort som väntar på att hämtas", count(at_desk), "desk_orders.queue"))
        counts.append(WorkCount("Utlämnade kort som väntar på kvittens",
                                count(at_mine.where(Order.status == Status.HANDED_OVER)), "desk_orders.queue"))
        overdue = count(at_desk.where(Order.at_desk_at <= utcnow() - warn_after))
        if overdue:
            counts.append(WorkCount(f"Kort som väntat mer än {warn_after.days} dagar", overdue, "desk_orders.queue",
                                    warn=True))
    if actor.has_role(Role.ORDERER):
        mine = select(Order).where(Order.orderer_id == actor.id, Order.status.in_(OPEN))
        counts.append(WorkCount("Mina pågående beställningar", count(mine), "orders.mine"))
    from cardadmin.timelog import sheets  # the approval queue's own count

    if (weeks := sheets.count_to_approve(actor)) is not None:
        counts.append(WorkCount("Tidrapporter att attestera", weeks, "timelog.queue"))
    return counts
