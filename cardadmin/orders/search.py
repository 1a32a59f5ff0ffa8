"""The order search (the search page, bulk revoke's starting point, the API's order list): its filters, the
order of its results and its keyset cursor.

Without a name or HSA-ID the results are oldest first, with the queues' cursor ('<created_at>~<id>'). With one
they are in name order, as ``people.service.match_parts`` gives the persons: HSA-ID matches, then surname
matches by surname, then given-name matches by given name; each person's orders oldest first. A page walks the
person name index in that order and stops after a page of orders, so it costs the same whether a name has 40
namesakes or 4 000. Its cursor carries the part, the driving word and the last row's sort keys.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, tuple_
from sqlalchemy.orm import joinedload

from cardadmin.accounts.models import Desk, Organisation
from cardadmin.db import db, starts_with, starts_with_from
from cardadmin.errors import InvalidInput
from cardadmin.orders.card_rules import card_number_prefix
from cardadmin.orders.models import Card, Order
from cardadmin.orders.queries import check_limit, format_cursor, load_orders, order_scope, page_ids, parse_cursor
from cardadmin.orders.states import Status
from cardadmin.people.matching import PART_ORDER, MatchPart, match, name_keys
from cardadmin.people.models import Person
from cardadmin.validation import clean_text

# A search result is an order with its person, organisation, desk and card (not who ordered it).
RESULT_LOADS: tuple[Any, ...] = tuple(joinedload(r) for r in (Order.person, Order.desk, Order.card,
                                                              Order.organisation))


def load_results(ids: list[int]) -> list[Order]:
    """The orders ``ids`` as ORM objects with what a search result carries (the API's answer)."""
    return load_orders(ids, RESULT_LOADS)


@dataclass(frozen=True)
class ResultRow:
    """One line of the search page: just what it shows. Building ORM objects for five joined tables cost about
    60 microseconds a row, more than the rest of the row; the page reads these plain rows instead."""

    id: int
    status: str
    created_at: datetime
    person_id: int
    person_name: str
    hsa_id: str
    organisation: str
    desk: str
    card_id: int | None
    card_number: str | None
    card_status: str | None


def load_result_rows(ids: list[int]) -> list[ResultRow]:
    """The orders ``ids``, in that order, as ``ResultRow``s: one query, no ORM objects."""
    if not ids:
        return []
    stmt = (select(Order.id, Order.status, Order.created_at, Order.person_id, Person.given_name, Person.surname,
                   Person.hsa_id, Organisation.name, Desk.name, Order.card_id, Card.card_number, Card.status)
            .join(Person, Person.id == Order.person_id).join(Organisation, Organisation.id == Order.organisation_id)
            .join(Desk, Desk.id == Order.desk_id).outerjoin(Card, Card.id == Order.card_id)
            .where(Order.id.in_(ids)))
    by_id = {r[0]: ResultRow(r[0], r[1], r[2], r[3], f"{r[4]} {r[5]}", r[6], r[7], r[8], r[9], r[10], r[11])
             for r in db.session.execute(stmt)}
    return [by_id[i] for i in ids if i in by_id]


BAD_CURSOR = "Sidhänvisningen är ogiltig eller hör till en annan sökning. Sök igen från första sidan."
_NAME_CURSOR = "n."  # prefix of a name-order cursor; a date cursor begins with a year


@dataclass
class OrderSearch:
    """The search screen's filters; every one optional. ``text`` is a name, an HSA-ID or a card number."""

    text: str = ""
    card_number: str = ""
    status: str = ""
    desk_id: int | None = None
    organisation_id: int | None = None


@dataclass
class SearchPage:
    orders: list[Any]  # Orders, or what the caller's ``load`` made of the page's ids
    next: str | None  # the cursor after the last order; None when the page is empty
    by_name: bool  # name order (a name or HSA-ID was given) rather than oldest first


@dataclass(frozen=True)
class _NamePosition:
    """Where a name-order page ended: the part, the driving word it used, and the last row's sort keys."""

    part: str  # MatchPart.name
    driver: str
    keys: tuple[Any, ...]
    created_at: datetime
    order_id: int


def _filters(actor: Any, query: OrderSearch) -> list[ColumnElement[bool]]:
    """Scope and every filter but the name: conditions on the order alone."""
    terms = [order_scope(actor)]
    number = card_number_prefix(clean_text(query.card_number[:40], "Kortnummer", max_length=40, required=False))
    if number:
        terms.append(Order.card_id.in_(select(Card.id).where(starts_with(Card.card_number, number))))
    if query.status:
        if query.status not in set(Status):
            raise InvalidInput("Välj en giltig status.", field="status")
        terms.append(Order.status == query.status)
    if query.desk_id is not None:
        terms.append(Order.desk_id == query.desk_id)
    if query.organisation_id is not None:
        terms.append(Order.organisation_id == query.organisation_id)
    return terms


def search_orders(actor: Any, query: OrderSearch, *, after: str | None = None, limit: int = 50,
                  load: Callable[[list[int]], list[Any]] = load_results) -> SearchPage:
    """Orders (with their person and card) in the actor's scope, a page after the cursor ``after`` (a page's
    ``next``). A cursor that is malformed or belongs to another kind of search is refused (InvalidInput). As in
    people search, a person with a protected identity is found by exact HSA-ID only, never by name."""
    check_limit(limit)
    filters = _filters(actor, query)
    text = clean_text(query.text[:100], "Sökningen", max_length=100, required=False)
    if not text:
        cursor = parse_cursor(after) if after else None
        if after and cursor is None:
            raise InvalidInput(BAD_CURSOR)
        orders = load(page_ids(select(Order).where(*filters), cursor, limit))
        return SearchPage(orders, format_cursor(orders[-1]) if orders else None, by_name=False)
    position = _parse_name_cursor(after, text) if after else None
    found = match(text, position.driver if position else None)
    parts = found.parts
    if position is not None:  # resume in the cursor's part (or the next one, should that part be empty now)
        parts = [p for p in parts if PART_ORDER.index(p.name) >= PART_ORDER.index(position.part)]
        if parts and parts[0].name == position.part and not position.keys[0].startswith(parts[0].prefix):
            raise InvalidInput(BAD_CURSOR)  # a position outside the part's range
    rows: list[tuple[str, Any]] = []
    for part in parts:
        start = position if position is not None and part.name == position.part else None
        rows += [(part.name, row) for row in db.session.execute(_walk(part, filters, start, limit - len(rows)))]
        if len(rows) == limit:
            break
    orders = load([row.id for _, row in rows])
    return SearchPage(orders, _format_name_cursor(*rows[-1], found.driver) if rows else None, by_name=True)


def _walk(part: MatchPart, filters: list[ColumnElement[bool]], after: _NamePosition | None,
          limit: int) -> Select[Any]:
    """The next ``limit`` orders of one part: persons in the part's key order, each person's orders oldest first
    (index ix_card_order_person), starting after ``after``."""
    stmt = (select(Order.id, Order.created_at, *part.keys).join(Person, Person.id == Order.person_id)
            .where(part.where, part.excluding, *filters)
            .order_by(*part.keys, Order.created_at, Order.id).limit(limit))
    if after is None:
        return stmt.where(starts_with(part.lead, part.prefix))
    # The cursor's keys are the lower bound the index seeks to (they begin with the prefix already).
    person = tuple_(*part.keys)  # compared with plain tuples, so each value is bound with its column's type
    return stmt.where(starts_with_from(part.lead, part.prefix), person >= after.keys,
                      or_(person > after.keys, tuple_(Order.created_at, Order.id) > (after.created_at, after.order_id)))


def _format_name_cursor(part: str, row: Any, driver: str) -> str:
    keys = list(row[2:])
    payload = json.dumps([part, driver, keys, row.created_at.isoformat(), row.id], ensure_ascii=False)
    return _NAME_CURSOR + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _sane(value: Any) -> bool:
    """A key value any database can bind: an id in range, a string without NUL (PostgreSQL refuses it)."""
    if type(value) is int:
        return 0 < value < 2**63
    return isinstance(value, str) and "\x00" not in value and len(value) <= 200


def _parse_name_cursor(raw: str, text: str) -> _NamePosition:
    """The position a name-order cursor names, checked against this search (its driving word must be one of the
    text's words); anything else is InvalidInput, never a wrong page."""
    try:
        if not raw.startswith(_NAME_CURSOR) or len(raw) > 2000:
            raise ValueError
        body = raw[len(_NAME_CURSOR):]
        part, driver, keys, stamp, order_id = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        moment = datetime.fromisoformat(stamp)
        shapes = dict(zip(PART_ORDER, [(str,), (str, str, int), (str, str, int)], strict=True))
        if (not isinstance(part, str) or part not in shapes or driver not in name_keys(text)
                or not isinstance(keys, list) or [type(k) for k in keys] != list(shapes[part])
                or not all(_sane(k) for k in keys) or moment.tzinfo is None
                or type(order_id) is not int or not _sane(order_id)):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(BAD_CURSOR) from None
    return _NamePosition(part, driver, tuple(keys), moment, order_id)
