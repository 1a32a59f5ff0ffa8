"""API tokens, JSON errors and the OpenAPI document."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from cardadmin.accounts.models import ApiToken
from cardadmin.api.openapi import openapi_path
from cardadmin.db import db


def _make_token(client, name="agent") -> str:
    page = client.post_form("/konto/api-nycklar", {"name": name}).get_data(as_text=True)
    return re.search(r'<code id="token">([^<]+)</code>', page).group(1)


def test_token_is_shown_once_stored_hashed_and_works(app, client, world):
    client.login("card_admin")
    token = _make_token(client)
    assert token.startswith("ca_") and len(token) > 40
    with app.app_context():
        row = db.session.scalars(select(ApiToken)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.prefix + row.name)
    assert token not in client.get("/konto").get_data(as_text=True)  # never shown again
    api = app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["username"] == "card_admin" and me.json["roles"] == ["card_admin"]
    assert me.json["desk_ids"] == [world.desk_id]


def test_revoked_token_stops_working(app, client, world):
    client.login("orderer")
    token = _make_token(client)
    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).one()
    assert client.post_form(f"/konto/api-nycklar/{token_id}/sparra").status_code == 302
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json == {"error": {"code": "unauthorized",
                                       "message": "Giltig API-nyckel saknas (Authorization: Bearer …)."}}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_user_cannot_revoke_someone_elses_token(app, client, new_client, world):
    owner = new_client()
    owner.login("orderer")
    _make_token(owner)
    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).one()
    client.login("evaluator")
    assert client.post_form(f"/konto/api-nycklar/{token_id}/sparra").status_code == 403
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_api_errors_are_json(app, client, world):
    client.login("admin")
    token = _make_token(client)
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/nope", headers=auth).json["error"]["code"] == "not_found"
    bad = api.get("/api/v1/audit/events?from=yesterday", headers=auth)
    assert bad.status_code == 400 and "ÅÅÅÅ-MM-DD" in bad.json["error"]["message"]
    assert api.get("/api/v1/audit/events?limit=0", headers=auth).status_code == 400
    assert api.get("/api/v1/me", headers={"Authorization": "Bearer ca_forged"}).status_code == 401
    assert api.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_api_ignores_the_session_cookie(app, client, world):
    """The API is CSRF-exempt, so it must never accept the browser's cookie as authentication."""
    client.login("admin")
    assert client.get("/api/v1/me").status_code == 401


def test_audit_events_and_verify(app, client, world):
    client.login("admin")
    token = _make_token(client)
    auth = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    events = api.get("/api/v1/audit/events?target_type=user&limit=3", headers=auth).json["items"]
    assert len(events) == 3 and events[0]["seq"] > events[1]["seq"]
    older = api.get(f"/api/v1/audit/events?before={events[-1]['seq']}&limit=1", headers=auth).json["items"]
    assert older[0]["seq"] < events[-1]["seq"]
    verify = api.get("/api/v1/audit/verify", headers=auth).json
    assert verify["ok"] is True and verify["checked"] > 5


def test_openapi_document_is_in_step_with_the_routes(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    routed = {
        (openapi_path(rule.rule), method)
        for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routed
    for path, ops in document["paths"].items():
        for op in ops.values():
            assert op["summary"], path
            assert "401" in op["responses"] or op["security"] == []


def test_openapi_document_is_valid(app):
    from openapi_spec_validator import validate

    validate(app.test_client().get("/api/v1/openapi.json").json)
