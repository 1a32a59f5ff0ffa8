"""The order API: the same services, scopes, rules and audit rows as the web pages; errors as JSON."""

from __future__ import annotations

from datetime import date, timedelta

from cardadmin.accounts import service as accounts
from cardadmin.db import db
from cardadmin.orders.models import Order
from cardadmin.orders.states import Status
from tests.test_orders_service import actions
from tests.test_people import add_person


def _tokens(app, world, *names):
    with app.app_context():
        out = {n: accounts.create_api_token(world.users[n], "test")[1] for n in names}
        db.session.commit()
    return out


def _h(token):
    return {"Authorization": f"Bearer {token}"}


def test_full_workflow_through_the_api(app, world):
    t = _tokens(app, world, "orderer", "ra_officer", "ra_kommun", "card_admin")
    with app.app_context():
        person_id = add_person(world, "API1").id
    c = app.test_client()
    created = c.post("/api/v1/orders", headers=_h(t["orderer"]),
                     json={"person_id": person_id, "order_type": "new", "desk_id": world.desk_id})
    assert created.status_code == 201
    order_id = created.json["id"]
    dup = c.post("/api/v1/orders", headers=_h(t["orderer"]),
                 json={"person_id": person_id, "order_type": "new", "desk_id": world.desk_id})
    assert dup.status_code == 409 and dup.json["error"]["code"] == "conflict"
    assert c.get(f"/api/v1/orders/{order_id}", headers=_h(t["ra_kommun"])).status_code == 404
    assert c.get("/api/v1/orders", headers=_h(t["ra_kommun"])).json["items"] == []
    assert [o["id"] for o in c.get("/api/v1/orders?status=ordered", headers=_h(t["ra_officer"])).json["items"]] \
        == [order_id]
    no_reason = c.post(f"/api/v1/orders/{order_id}/reject", headers=_h(t["ra_officer"]), json={"reason": ""})
    assert no_reason.status_code == 400 and "Skäl" in no_reason.json["error"]["message"]
    assert c.post(f"/api/v1/orders/{order_id}/approve", headers=_h(t["ra_officer"])).json["status"] == "approved"
    again = c.post(f"/api/v1/orders/{order_id}/approve", headers=_h(t["ra_officer"]))
    assert again.status_code == 409
    ka = _h(t["card_admin"])
    assert c.post(f"/api/v1/orders/{order_id}/in-production", headers=ka).status_code == 200
    assert c.post(f"/api/v1/orders/{order_id}/at-desk", headers=ka,
                  json={"card_number": "9752000000042"}).json["status"] == "at_desk"
    identity = {"method": "document", "document_type": "driving_licence",
                "document_valid_until": (date.today() + timedelta(days=90)).isoformat(), "document_number": "991234"}
    wrong = c.post(f"/api/v1/orders/{order_id}/hand-over", headers=ka, json={"card_number": "1111111", **identity})
    assert wrong.status_code == 400 and "stämmer inte" in wrong.json["error"]["message"]
    done = c.post(f"/api/v1/orders/{order_id}/hand-over", headers=ka, json={"card_number": "9752000000042",
                                                                           **identity})
    assert done.status_code == 200 and done.json["status"] == "handed_over"
    assert c.post(f"/api/v1/orders/{order_id}/activate", headers=ka).json["status"] == "active"
    card_id = done.json["card_id"]
    listed = c.get("/api/v1/cards?status=active", headers=ka).json["items"]
    assert [x["id"] for x in listed] == [card_id]
    assert c.get(f"/api/v1/cards/{card_id}", headers=_h(t["ra_kommun"])).status_code == 404
    bad = c.post(f"/api/v1/cards/{card_id}/revoke", headers=ka, json={"reason": "bogus", "requested_by": "x"})
    assert bad.status_code == 400
    revoked = c.post(f"/api/v1/cards/{card_id}/revoke", headers=_h(t["ra_officer"]),
                     json={"reason": "lost", "requested_by": "Innehavaren"})
    assert revoked.status_code == 200 and revoked.json["card"]["status"] == "revoked"
    case = c.post("/api/v1/support-cases", headers=ka, json={"kind": "lost_card", "channel": "phone",
                                                             "card_id": card_id, "minutes_spent": 5,
                                                             "description": "Kortet borttappat"})
    assert case.status_code == 201 and case.json["desk_id"] == world.desk_id
    with app.app_context():
        assert actions("order", order_id) == ["order.create", "order.approve", "order.in_production",
                                              "order.at_desk", "order.hand_over", "order.activate"]
        assert actions("card", card_id)[-1] == "card.revoke"
        assert db.session.get(Order, order_id).status == Status.REVOKED


def test_bad_bodies_are_json_400s(app, world):
    t = _tokens(app, world, "orderer")
    c = app.test_client()
    assert c.post("/api/v1/orders", headers=_h(t["orderer"]), json={"person_id": "x"}).status_code == 400
    assert c.post("/api/v1/orders", headers=_h(t["orderer"]), json=[1]).status_code == 400
    assert c.get("/api/v1/orders?limit=0", headers=_h(t["orderer"])).status_code == 400
    assert c.get("/api/v1/orders?status=nonsense", headers=_h(t["orderer"])).status_code == 400


def test_support_cases_listed_and_resolved_through_the_api(app, world):
    t = _tokens(app, world, "card_admin", "ra_kommun", "orderer")
    ka, c = _h(t["card_admin"]), app.test_client()
    opened = c.post("/api/v1/support-cases", headers=ka,
                    json={"kind": "pin_puk", "channel": "phone", "out_of_hours": True, "minutes_spent": 10,
                          "description": "PIN spärrad"})
    assert opened.status_code == 201 and opened.json["resolved_at"] is None
    case_id = opened.json["id"]
    assert [x["id"] for x in c.get("/api/v1/support-cases?open=1", headers=ka).json["items"]] == [case_id]
    assert c.get("/api/v1/support-cases", headers=_h(t["orderer"])).status_code == 403
    missing = c.post(f"/api/v1/support-cases/{case_id}/resolve", headers=ka, json={"minutes_spent": 5})
    assert missing.status_code == 400
    done = c.post(f"/api/v1/support-cases/{case_id}/resolve", headers=ka,
                  json={"resolution": "PUK lämnad", "minutes_spent": 5})
    assert done.status_code == 200 and done.json["minutes_spent"] == 15 and done.json["resolved_at"]
    again = c.post(f"/api/v1/support-cases/{case_id}/resolve", headers=ka, json={"resolution": "igen"})
    assert again.status_code == 409
    assert c.get("/api/v1/support-cases?open=1", headers=ka).json["items"] == []
    with app.app_context():
        assert actions("support_case", case_id) == ["support_case.create", "support_case.resolve"]
