"""Ordinary input that gave a 500 in the attack campaign (issue 18, item 3): each answers a clear 4xx now."""

from __future__ import annotations

from sqlalchemy import func, select

from cardadmin.db import db
from cardadmin.orders.models import Order
from tests.test_api import _make_token


def test_json_nested_two_thousand_deep_is_a_400(app, client, world):
    client.login("orderer")
    token = _make_token(client)
    body = "[" * 2000 + "]" * 2000
    api = app.test_client()
    for payload in (body, '{"person_id": ' + body + "}", '{"a":' * 20 + "1" + "}" * 20):
        response = api.post(
            "/api/v1/orders",
            data=payload,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 400, payload[:40]
        assert "nästlat" in response.json["error"]["message"]
    fine = api.post(
        "/api/v1/orders",
        data='{"person_id": "x"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert fine.status_code == 400 and "nästlat" not in fine.json["error"]["message"]


def test_an_order_form_with_a_person_id_that_is_no_id_is_a_400(app, client, world):
    client.login("orderer")
    for person_id in ("abc", "99999999999", "", "²"):
        response = client.post_form(
            "/bestallningar/ny", {"person_id": person_id, "order_type": "new", "desk_id": world.desk_id}
        )
        assert response.status_code == 400, person_id
        assert "Välj kortmottagaren" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_the_audit_log_reads_a_changed_organisation_kind(app, client, world):
    client.login("admin")
    response = client.post_form(
        f"/admin/organisationer/{world.region_id}",
        {"name": "Region Västerbotten", "org_number": "232100-0222", "kind": "other"},
    )
    assert response.status_code == 302
    for user in ("admin",):
        page = client.get("/logg/")
        assert page.status_code == 200, user
