"""The desk agent's API (/api/v1/desk/...): find the order waiting for a card, with a fresh challenge
for the card to sign, and post the verification result. Bearer token of a korthandläggare; only orders
at the token user's own desks (the services check it)."""

from __future__ import annotations

import base64
from typing import Any

from flask import current_app, g, jsonify, request

from cardadmin.api.core import json_body, operation
from cardadmin.api.openapi import object_schema
from cardadmin.db import db
from cardadmin.desk import verification
from cardadmin.desk.models import CardVerification
from cardadmin.roles import Role


def verification_json(row: CardVerification) -> dict[str, Any]:
    return {"id": row.id, "order_id": row.order_id, "card_id": row.card_id, "ok": row.ok, "source": row.source,
            "reader": row.reader, "checks": row.checks, "certificates": row.certificates,
            "failed_checks": row.failed_checks, "error": row.error, "pin_attempts_left": row.pin_attempts_left,
            "checked_at": row.checked_at.isoformat(), "recorded_at": row.recorded_at.isoformat()}


_LOOKUP_PARAMS = [{"name": "card_number", "in": "query", "required": True, "schema": {"type": "string"}},
                  {"name": "hsa_id", "in": "query", "required": False, "schema": {"type": "string"}}]


@operation("/desk/card-orders", summary="The order at the caller's desks waiting for this card, with a "
           "challenge for the card to sign (desk agent)", roles=(Role.CARD_ADMIN,), parameters=_LOOKUP_PARAMS)
def desk_card_order() -> Any:
    order = verification.find_order_for_card(g.api_user, request.args.get("card_number", "")[:40],
                                             request.args.get("hsa_id", "")[:31] or None)
    order, challenge, token = verification.challenge_for(g.api_user, order.id, current_app.config["SECRET_KEY"])
    assert order.card is not None
    return jsonify({"order": {"id": order.id, "status": order.status, "hsa_id": order.person.hsa_id,
                              "name": order.person.full_name, "card_number": order.card.card_number},
                    "challenge": base64.b64encode(challenge).decode("ascii"), "challenge_token": token})


@operation("/desk/orders/<int:order_id>/verifications", method="POST",
           summary="Store a verification the desk agent made; the server re-checks the certificates and the "
           "signature over its challenge (201). The same post again, after a lost answer, gives the stored "
           "result (200); any other reuse of a challenge is a 409", roles=(Role.CARD_ADMIN,),
           request_schema=object_schema("certificates", "challenge_token"))
def desk_post_verification(order_id: int) -> Any:
    row, created = verification.store_posted(g.api_user, order_id, json_body(), current_app.config)
    db.session.commit()
    return jsonify(verification_json(row)), 201 if created else 200
