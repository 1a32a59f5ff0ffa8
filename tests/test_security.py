"""The role × route matrix, the gate's public list, headers, cookies and hostile input."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from cardadmin.accounts import service
from cardadmin.accounts.models import Organisation
from cardadmin.db import db
from cardadmin.roles import ALL_ROLES, Role
from cardadmin.security import PUBLIC, access_of, roles_allowed
from tests.conftest import ROLE_USERS

EXPECTED_PUBLIC = {"auth.login", "api.openapi", "auth.favicon"}  # the icon: browsers ask before logging in


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:int:)?[a-z_]+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def test_only_the_listed_views_are_public(app):
    public = {e for e, view in app.view_functions.items() if access_of(view) == PUBLIC}
    assert public == EXPECTED_PUBLIC


def test_every_view_declares_who_may_use_it(app):
    undeclared = [e for e, view in app.view_functions.items() if e != "static" and access_of(view) is None]
    assert undeclared == []


def test_role_route_matrix_web(app, new_client, world):
    """Every web route, every role: refused (403) exactly when the role is not allowed."""
    browsers = {role: new_client() for role in ALL_ROLES}
    for role, browser in browsers.items():
        assert browser.login(ROLE_USERS[role]).status_code == 302
    anonymous = new_client()
    anonymous.fetch_csrf()
    checked = 0
    for endpoint, method, path in _routes(app):
        if path.startswith("/api/"):
            continue
        allowed = roles_allowed(app.view_functions[endpoint])
        for role, browser in browsers.items():
            if endpoint == "auth.logout":
                continue  # would end the browser's session mid-matrix; covered in test_auth
            response = browser.open(path, method=method, data={"csrf_token": browser.csrf_token})
            if role in allowed:
                assert response.status_code != 403, (role, method, path)
                assert "/login" not in response.headers.get("Location", ""), (role, method, path)
            else:
                assert response.status_code == 403, (role, method, path, response.status_code)
            checked += 1
        if endpoint not in EXPECTED_PUBLIC:
            response = anonymous.open(path, method=method, data={"csrf_token": anonymous.csrf_token})
            assert response.status_code in (302, 401), (method, path)
    assert checked > 50


def test_role_route_matrix_api(app, world):
    tokens = {}
    with app.app_context():
        for role, username in ROLE_USERS.items():
            _row, tokens[role] = service.create_api_token(world.users[username], "matrix")
        db.session.commit()
    client = app.test_client()
    for endpoint, method, path in _routes(app):
        if not path.startswith("/api/"):
            continue
        allowed = roles_allowed(app.view_functions[endpoint])
        for role, token in tokens.items():
            response = client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, json={})
            assert response.status_code < 500, (role, method, path, response.status_code)
            if role in allowed:
                assert response.status_code != 403, (role, method, path)
            else:
                assert response.status_code == 403, (role, method, path)
                assert response.json["error"]["code"] == "forbidden"
        if endpoint not in EXPECTED_PUBLIC:
            assert client.open(path, method=method).status_code == 401


def test_security_headers_and_cookie_flags(app, client, world):
    response = client.login("orderer")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in page.get_data(as_text=True)  # CSP forbids inline script: none is written


def test_production_cookies_are_secure(make_app):
    prod = make_app(CARDADMIN_ENV="production")
    assert prod.config["SESSION_COOKIE_SECURE"] and prod.config["REMEMBER_COOKIE_SECURE"]
    response = prod.test_client().get("/login")
    assert "Strict-Transport-Security" in response.headers


def test_missing_csrf_token_is_refused_and_ends_the_session(app, client, world):
    client.login("admin")
    response = client.post("/admin/organisationer/ny", data={"name": "Ny", "org_number": "212000-2577",
                                                              "kind": "municipality"})
    assert response.status_code == 400
    assert "säkerhetstoken" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # logged out
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 2


def test_huge_form_is_refused_with_413(app, client, world):
    client.login("admin")
    response = client.post_form("/admin/organisationer/ny", {"name": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "för stort" in response.get_data(as_text=True)


def test_long_field_is_a_validation_error_not_a_crash(app, client, world):
    client.login("admin")
    response = client.post_form("/admin/organisationer/ny",
                                {"name": "x" * 5000, "org_number": "212000-2577", "kind": "municipality"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 2


def test_non_utf8_form_bytes_are_a_4xx_not_a_500(app, client, world):
    client.login("admin")
    body = b"csrf_token=" + client.csrf_token.encode() + b"&name=%FF%FE%80&org_number=%C3%28&kind=other"
    response = client.post("/admin/organisationer/ny", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert 200 <= response.status_code < 500
    assert "Traceback" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 2


@pytest.mark.parametrize("path", ["/finns-inte", "/admin/anvandare/999999", "/admin/anvandare/99999999999999999999"])
def test_not_found_is_a_swedish_page(app, client, world, path):
    client.login("admin")
    response = client.get(path)
    assert response.status_code == 404
    assert "finns inte" in response.get_data(as_text=True)


def test_unexpected_error_is_a_swedish_500_without_traceback(app, client, world):
    @app.route("/boom")
    def boom():  # registered only in this test
        raise RuntimeError("secret internals")

    boom._cardadmin_access = frozenset(ALL_ROLES)
    client.login("admin")
    response = client.get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Något gick fel" in text and "secret internals" not in text and "Traceback" not in text


def test_no_view_is_allowed_for_no_role(app):
    for endpoint, view in app.view_functions.items():
        if endpoint != "static":
            assert roles_allowed(view), endpoint
    assert Role.ADMIN in roles_allowed(app.view_functions["admin.users"])


HOSTILE_BODIES = [
    {"person_id": "abc", "order_type": 5, "desk_id": None},
    {"person_id": 10**30, "desk_id": -1, "order_type": "new"},
    {"card_number": ["x"], "identity": "nope", "reason": {"a": 1}},
    {"reason": "x" * 100_000, "requested_by": 7, "comment": None},
    {"kind": "pin_puk", "channel": "desk", "minutes_spent": "15", "card_id": "1"},
    {"order_ids": "1,2", "ids": [None]},
]


def test_api_answers_hostile_json_with_4xx_never_500(app, world):
    with app.app_context():  # every role, so the request gets past the role check to the body
        everyone = service.create_user(world.users["admin"], service.UserInput(
            "fuzzer", "Fuzz", roles=list(ALL_ROLES), organisation_id=world.region_id,
            desk_ids=[world.desk_id]), "Long-enough-pw")
        _row, token = service.create_api_token(everyone, "fuzz")
        db.session.commit()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    checked = 0
    for _endpoint, method, path in _routes(app):
        if not path.startswith("/api/") or method == "GET":
            continue
        for body in [*HOSTILE_BODIES, [], "text", 3]:
            response = client.open(path, method=method, headers=auth, json=body)
            assert 400 <= response.status_code < 500, (path, body, response.status_code)
            assert "error" in response.json
            checked += 1
        raw = client.open(path, method=method, headers={**auth, "Content-Type": "application/json"}, data=b"{bad")
        assert 400 <= raw.status_code < 500, path
    assert checked > 50


def test_huge_ids_in_api_paths_are_404(app, world):
    with app.app_context():
        _row, token = service.create_api_token(world.users["admin"], "ids")
        db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    response = app.test_client().get("/api/v1/orders/99999999999999999999", headers=auth)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_web_forms_answer_huge_and_odd_values_with_4xx_never_500(app, new_client, world):
    """Every POST route, as a user holding every role, with every id-like field out of range or odd."""
    import re as _re

    from tests.conftest import PASSWORD

    with app.app_context():
        service.create_user(world.users["admin"], service.UserInput(
            "allroles", "All Roles", roles=list(ALL_ROLES), organisation_id=world.region_id,
            desk_ids=[world.desk_id]), PASSWORD)
        db.session.commit()
    browser = new_client()
    browser.login("allroles")
    names = set()
    for rule in app.url_map.iter_rules():
        names.update(_re.findall(r"<(?:int:)?([a-z_]+)>", rule.rule))
    names |= {"person_id", "desk_id", "organisation_id", "desk_ids", "parent_id", "unit_id", "order_ids",
              "card_ids", "ids", "year", "week_from", "week_to", "minutes_spent", "card_id", "form_nonce"}
    for values in ("99999999999999999999", "-1", "1e9", "NaN", "\x00", "١٢"):
        for _endpoint, method, path in _routes(app):
            if method != "POST" or path.startswith("/api/") or path == "/logout":
                continue
            data = {name: values for name in names} | {"csrf_token": browser.csrf_token}
            response = browser.post(path, data=data)
            assert response.status_code < 500, (path, values, response.status_code)
