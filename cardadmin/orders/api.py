"""Orders, cards and support cases under /api/v1: the same services, scopes and audit rows as the web pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g, jsonify, request

from cardadmin.api.core import json_body, operation
from cardadmin.api.openapi import object_schema
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.orders import cards, queries, service, support
from cardadmin.orders.models import Card, Order, SupportCase
from cardadmin.orders.search import OrderSearch, search_orders
from cardadmin.orders.service import IdentityInput
from cardadmin.roles import Role
from cardadmin.web import MAX_ID, int_arg, whole_number

VIEWERS = (Role.ORDERER, Role.RA_OFFICER, Role.CARD_ADMIN, Role.ADMIN)


def _order_json(o: Order) -> dict[str, Any]:
    stamps = ("created_at", "approved_at", "rejected_at", "cancelled_at", "in_production_at", "at_desk_at",
              "handed_over_at", "active_at", "revoked_at", "expired_at")
    return {"id": o.id, "status": o.status, "order_type": o.order_type, "person_id": o.person_id,
            "hsa_id": o.person.hsa_id, "organisation_id": o.organisation_id, "desk_id": o.desk_id,
            "orderer_id": o.orderer_id, "card_id": o.card_id, "replaces_card_id": o.replaces_card_id,
            "decision_reason": o.decision_reason,
            **{k: (getattr(o, k).isoformat() if getattr(o, k) else None) for k in stamps}}


def _card_json(c: Card) -> dict[str, Any]:
    return {"id": c.id, "card_number": c.card_number, "status": c.status, "person_id": c.person_id,
            "hsa_id": c.person.hsa_id, "organisation_id": c.organisation_id, "desk_id": c.desk_id,
            "expires_on": c.expires_on.isoformat() if c.expires_on else None, "replaces_id": c.replaces_id,
            "replaced_by_id": c.replaced_by_id}


def _int(body: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not -MAX_ID <= value <= MAX_ID:
        raise InvalidInput(f"Fältet {name} ska vara ett heltal (högst {MAX_ID}).", field=name)
    return value


def _str(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise InvalidInput(f"Fältet {name} ska vara en sträng.", field=name)
    return value


def _date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"Fältet {name} ska vara ett datum ÅÅÅÅ-MM-DD.", field=name) from None


def _limit() -> int:
    limit = whole_number(request.args.get("limit", "50"), queries.MAX_PAGE)
    if not limit:
        raise InvalidInput(f"limit ska vara 1–{queries.MAX_PAGE}.")
    return limit


def _arg_int(name: str) -> int | None:
    return int_arg(name, refuse=f"Parametern {name} ska vara ett heltal.")


def _done(payload: dict[str, Any], status: int = 200) -> Any:
    db.session.commit()
    return jsonify(payload), status


_LIST_PARAMS = [
    {"name": n, "in": "query", "required": False, "schema": {"type": t}}
    for n, t in [("q", "string"), ("card_number", "string"), ("status", "string"), ("desk_id", "integer"),
                 ("organisation_id", "integer"), ("after", "string"), ("limit", "integer")]
]


_LIST_ORDER = (
    "Order of the items: without `q`, oldest first (`order`: `created`). With `q` (a name or an HSA-ID), name "
    "order (`order`: `name`): HSA-ID matches (exact, or a prefix) by HSA-ID, then persons whose surname begins with "
    "the driving word (the word of `q` the fewest distinct names begin with) by surname and given name, then those "
    "whose given name begins with it by given name and surname (names compared case-folded, by code point); each "
    "person's orders oldest first. Every word of `q` must begin the given name or the surname; "
    "a protected identity is found by its exact HSA-ID only. Pages: pass the response's `next` as `after` with the "
    "same filters; a cursor that is malformed or belongs to another search is a 400."
)


@operation("/orders", summary="List and filter orders in the caller's scope (keyset: after=<next>)",
           roles=VIEWERS, parameters=_LIST_PARAMS, description=_LIST_ORDER)
def orders_list() -> Any:
    found = search_orders(g.api_user, OrderSearch(
        text=request.args.get("q", "")[:100], card_number=request.args.get("card_number", "")[:40],
        status=request.args.get("status", ""), desk_id=_arg_int("desk_id"),
        organisation_id=_arg_int("organisation_id")), after=request.args.get("after"), limit=_limit())
    return jsonify({"items": [_order_json(o) for o in found.orders], "next": found.next,
                    "order": "name" if found.by_name else "created"})


@operation("/orders/<int:order_id>", summary="One order in the caller's scope", roles=VIEWERS)
def orders_get(order_id: int) -> Any:
    return jsonify(_order_json(queries.get_order(g.api_user, order_id)))


@operation("/orders", method="POST", summary="Create an order (orderer)", roles=(Role.ORDERER,),
           request_schema=object_schema("person_id", "order_type", "desk_id"))
def orders_create() -> Any:
    body = json_body()
    order = service.create_order(g.api_user, person_id=_int(body, "person_id") or 0,
                                 order_type=_str(body, "order_type"), desk_id=_int(body, "desk_id") or 0,
                                 comment=_str(body, "comment"))
    return _done(_order_json(order), 201)


@operation("/orders/<int:order_id>/approve", method="POST", summary="Approve an order (RA officer)",
           roles=(Role.RA_OFFICER,))
def orders_approve(order_id: int) -> Any:
    return _done(_order_json(service.approve(g.api_user, order_id)))


@operation("/orders/<int:order_id>/reject", method="POST", summary="Reject an order with a reason (RA officer)",
           roles=(Role.RA_OFFICER,), request_schema=object_schema("reason"))
def orders_reject(order_id: int) -> Any:
    return _done(_order_json(service.reject(g.api_user, order_id, _str(json_body(), "reason"))))


@operation("/orders/<int:order_id>/in-production", method="POST", summary="Mark an order in production (desk)",
           roles=(Role.CARD_ADMIN,))
def orders_in_production(order_id: int) -> Any:
    return _done(_order_json(service.mark_in_production(g.api_user, order_id)))


@operation("/orders/<int:order_id>/at-desk", method="POST", summary="Register the produced card (desk)",
           roles=(Role.CARD_ADMIN,), request_schema=object_schema("card_number"))
def orders_at_desk(order_id: int) -> Any:
    body = json_body()
    order = service.mark_at_desk(g.api_user, order_id, _str(body, "card_number"),
                                 expires_on=_date(body.get("expires_on"), "expires_on"))
    return _done(_order_json(order))


@operation("/orders/<int:order_id>/hand-over", method="POST",
           summary="Hand over with an identity check: method document (document_type, document_valid_until, "
                   "document_number) or witness (witness_name, witness_hsa_id)",
           roles=(Role.CARD_ADMIN,), request_schema=object_schema("card_number", "method"))
def orders_hand_over(order_id: int) -> Any:
    body = json_body()
    identity = IdentityInput(
        method=_str(body, "method"), document_type=_str(body, "document_type") or None,
        document_valid_until=_date(body.get("document_valid_until"), "document_valid_until"),
        document_number=_str(body, "document_number"), witness_name=_str(body, "witness_name"),
        witness_hsa_id=_str(body, "witness_hsa_id"),
    )
    return _done(_order_json(service.hand_over(g.api_user, order_id, _str(body, "card_number"), identity)))


@operation("/orders/<int:order_id>/activate", method="POST", summary="Recipient accepted the card: active (desk)",
           roles=(Role.CARD_ADMIN,))
def orders_activate(order_id: int) -> Any:
    return _done(_order_json(service.activate(g.api_user, order_id)))


@operation("/cards", summary="List cards in the caller's scope", roles=VIEWERS,
           parameters=[{"name": n, "in": "query", "required": False, "schema": {"type": t}}
                       for n, t in [("status", "string"), ("desk_id", "integer"), ("card_number", "string"),
                                    ("after_id", "integer"), ("limit", "integer")]])
def cards_list() -> Any:
    stmt = queries.visible_cards(g.api_user)
    if request.args.get("status"):
        stmt = stmt.where(Card.status == request.args["status"])
    desk_id, after_id = _arg_int("desk_id"), _arg_int("after_id")
    if desk_id is not None:
        stmt = stmt.where(Card.desk_id == desk_id)
    if request.args.get("card_number"):
        stmt = stmt.where(Card.card_number == service.normalise_card_number(request.args["card_number"]))
    if after_id is not None:
        stmt = stmt.where(Card.id > after_id)
    rows = list(db.session.scalars(stmt.order_by(Card.id).limit(_limit())))
    return jsonify({"items": [_card_json(c) for c in rows], "next_after_id": rows[-1].id if rows else None})


@operation("/cards/<int:card_id>", summary="One card in the caller's scope", roles=VIEWERS)
def cards_get(card_id: int) -> Any:
    return jsonify(_card_json(queries.get_card(g.api_user, card_id)))


@operation("/cards/<int:card_id>/revoke", method="POST", summary="Revoke (spärra) a card",
           roles=(Role.CARD_ADMIN, Role.RA_OFFICER, Role.ADMIN), request_schema=object_schema("reason", "requested_by"))
def cards_revoke(card_id: int) -> Any:
    body = json_body()
    row = cards.revoke_card(g.api_user, card_id, _str(body, "reason"), _str(body, "requested_by"),
                            _str(body, "comment"))
    return _done({"revocation_id": row.id, "card": _card_json(row.card),
                  "retain_until": row.retain_until.isoformat()})


def _case_json(row: SupportCase) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "channel": row.channel, "out_of_hours": row.out_of_hours,
            "desk_id": row.desk_id, "card_id": row.card_id, "person_id": row.person_id,
            "minutes_spent": row.minutes_spent, "description": row.description, "resolution": row.resolution,
            "created_at": row.created_at.isoformat(),
            "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None}


@operation("/support-cases", summary="Support cases in the caller's scope, newest first",
           roles=(Role.CARD_ADMIN, Role.RA_OFFICER, Role.ADMIN),
           parameters=[{"name": n, "in": "query", "required": False, "schema": {"type": t}}
                       for n, t in [("open", "boolean"), ("limit", "integer")]])
def support_cases_list() -> Any:
    stmt = support.visible_cases(g.api_user, open_only=request.args.get("open") in ("1", "true"))
    return jsonify({"items": [_case_json(c) for c in db.session.scalars(stmt.limit(_limit()))]})


@operation("/support-cases", method="POST", summary="Log a support case (desk)", roles=(Role.CARD_ADMIN, Role.ADMIN),
           request_schema=object_schema("kind", "channel", "description"))
def support_cases_create() -> Any:
    body = json_body()
    row: SupportCase = support.open_support_case(g.api_user, support.SupportInput(
        kind=_str(body, "kind"), channel=_str(body, "channel"), out_of_hours=bool(body.get("out_of_hours", False)),
        description=_str(body, "description"), resolution=_str(body, "resolution"),
        card_id=_int(body, "card_id", required=False), person_id=_int(body, "person_id", required=False),
        desk_id=_int(body, "desk_id", required=False), minutes_spent=_int(body, "minutes_spent", required=False) or 0,
    ))
    return _done(_case_json(row), 201)


@operation("/support-cases/<int:case_id>/resolve", method="POST", summary="Resolve an open support case (desk)",
           roles=(Role.CARD_ADMIN, Role.ADMIN), request_schema=object_schema("resolution"))
def support_cases_resolve(case_id: int) -> Any:
    body = json_body()
    row = support.resolve_support_case(g.api_user, case_id, _str(body, "resolution"),
                                       _int(body, "minutes_spent", required=False) or 0)
    return _done(_case_json(row))
