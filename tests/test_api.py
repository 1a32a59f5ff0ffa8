"""API tokens, JSON errors and the OpenAPI document."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from cardadmin.accounts.models import ApiToken
from cardadmin.api.openapi import openapi_path
from cardadmin.db import db


def _make_token(client, name="agent", scope="all", days=90) -> str:
    from tests.conftest import PASSWORD

    page = client.post_form("/konto/api-nycklar", {"name": name, "scope": scope, "days": days,
                                                   "password": PASSWORD}).get_data(as_text=True)
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
    assert client.post_form(f"/konto/api-nycklar/{token_id}/sparra").status_code == 404  # as if missing
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


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_minting_a_token_asks_for_the_password(app, client, world):
    client.login("card_admin")
    response = client.post_form("/konto/api-nycklar", {"name": "x", "scope": "all", "days": 90,
                                                       "password": "not-the-password"})
    assert response.status_code == 400 and "Lösenordet stämmer inte" in response.get_data(as_text=True)
    response = client.post_form("/konto/api-nycklar", {"name": "x", "scope": "all", "days": 0,
                                                       "password": "irrelevant"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(ApiToken)).all() == []


def test_a_token_expires_and_shows_when(app, client, world):
    from datetime import timedelta

    client.login("card_admin")
    token = _make_token(client, days=30)
    with app.app_context():
        row = db.session.scalars(select(ApiToken)).one()
        assert timedelta(days=29, hours=23) < row.expires_at - row.created_at <= timedelta(days=30)
    assert "Giltig till" in client.get("/konto").get_data(as_text=True)
    api = app.test_client()
    assert api.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    with app.app_context():
        row = db.session.scalars(select(ApiToken)).one()
        row.expires_at = row.created_at  # its time has run out
        db.session.commit()
    assert api.get("/api/v1/me", headers=_bearer(token)).status_code == 401


def test_a_desk_agent_token_reaches_only_the_agents_calls(app, client, world):
    client.login("card_admin")
    token = _make_token(client, scope="desk_agent")
    api = app.test_client()
    assert api.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    assert api.get("/api/v1/desk/card-orders?card_number=1", headers=_bearer(token)).status_code != 403
    assert api.get("/api/v1/orders", headers=_bearer(token)).status_code == 403
    assert api.get("/api/v1/desks", headers=_bearer(token)).status_code == 403


def test_password_change_and_deactivation_end_tokens(app, client, world):
    from tests.conftest import PASSWORD

    client.login("card_admin")
    token = _make_token(client)
    api = app.test_client()
    assert api.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    client.post_form("/konto", {"current_password": PASSWORD, "new_password": "Another-password-2"})
    assert api.get("/api/v1/me", headers=_bearer(token)).status_code == 401
    client.login("orderer")
    token = _make_token(client)
    with app.app_context():
        from cardadmin.accounts import service
        from cardadmin.accounts.models import User

        admin = db.session.get(User, world.users["admin"].id)
        user = db.session.get(User, world.users["orderer"].id)
        data = service.UserInput(username=user.username, full_name=user.full_name, email=user.email,
                                 hsa_id=user.hsa_id, organisation_id=user.organisation_id, roles=user.roles,
                                 desk_ids=[d.id for d in user.desks], active=False)
        service.update_user(admin, user, data)
        db.session.commit()
        user.active = True  # even switched back on, the old token stays ended
        db.session.commit()
    assert api.get("/api/v1/me", headers=_bearer(token)).status_code == 401
