"""Shared fixtures: app, db, client (with CSRF-aware helpers), runner, users of every role.

Tests run on SQLite (a fresh file per test) by default, and on PostgreSQL when
CARDADMIN_TEST_DATABASE_URL is set (schema created once per run, tables emptied between tests).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from cardadmin import create_app, security
from cardadmin.accounts import service
from cardadmin.db import Base, db
from cardadmin.models import import_all
from cardadmin.roles import Role

TEST_SECRET = "test-secret-key-" + "x" * 32
PASSWORD = "Test-password-1"
PG_URL = os.environ.get("CARDADMIN_TEST_DATABASE_URL")

import_all()
# Argon2 at its production cost makes every test user take ~0.1 s; the algorithm is the same.
security.password_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
security._DUMMY.clear()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="needs CARDADMIN_TEST_DATABASE_URL (real PostgreSQL)")
    for item in items:
        if "postgres" in item.keywords:  # scripts/test.sh runs them in its PostgreSQL pass
            item.add_marker(skip)


@pytest.fixture(scope="session")
def _pg_schema() -> Iterator[None]:
    if not PG_URL:
        yield
        return
    from cardadmin.db import make_engine

    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    engine.dispose()
    yield


@pytest.fixture
def database_url(tmp_path: Any, _pg_schema: None) -> str:
    return PG_URL or f"sqlite:///{tmp_path / 'test.db'}"


def _empty_all_tables(app: Flask) -> None:
    engine = db.engine(app)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def make_app(database_url: str) -> Iterator[Any]:
    """Build apps on the test database; more than one shares it (as gunicorn workers would)."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        config = {"SECRET_KEY": TEST_SECRET, "DATABASE_URL": database_url, "TESTING": True}
        config.update(overrides)
        app = create_app(config)
        if not apps:
            if PG_URL:
                _empty_all_tables(app)
            else:
                Base.metadata.create_all(db.engine(app))
        apps.append(app)
        return app

    yield build
    for app in apps:
        db.engine(app).dispose()


@pytest.fixture
def app(make_app: Any) -> Flask:
    return make_app()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


class Client(FlaskClient):
    """A test client that behaves like a browser with respect to CSRF: it reads the token from a page."""

    csrf_token: str | None = None

    def fetch_csrf(self, path: str = "/login") -> str:
        page = self.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        self.csrf_token = match.group(1)
        return self.csrf_token

    def post_form(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if self.csrf_token is None:
            self.fetch_csrf()
        payload = {"csrf_token": self.csrf_token, **(data or {})}
        return self.post(path, data=payload, **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> Any:
        if self.get("/login").status_code == 302:  # someone is logged in here: log out first
            self.post_form("/logout")
        self.fetch_csrf("/login")
        response = self.post_form("/login", {"username": username, "password": password})
        if response.status_code == 302:
            self.fetch_csrf("/")  # the session was renewed at login: take the new token
        return response


@pytest.fixture
def new_client(app: Flask) -> Any:
    """Another browser: its own cookies (optionally on another app instance or client address)."""

    def build(on: Flask | None = None, address: str = "127.0.0.1") -> Client:
        target = on or app
        target.test_client_class = Client
        browser = target.test_client()
        browser.environ_base = {"REMOTE_ADDR": address}
        return browser  # type: ignore[return-value]

    return build


@pytest.fixture
def client(new_client: Any) -> Client:
    return new_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@dataclass
class World:
    """A small organisation register and one user per role (plus a second RA officer elsewhere)."""

    region_id: int
    municipality_id: int
    desk_id: int
    other_desk_id: int
    users: dict[str, Any]


def build_world() -> World:
    admin = service.create_user(None, service.UserInput("admin", "Alva Admin", roles=[Role.ADMIN]), PASSWORD)
    region = service.save_organisation(admin, None, name="Region Västerbotten", org_number="232100-0222",
                                       kind="region")
    kommun = service.save_organisation(admin, None, name="Lycksele kommun", org_number="212000-2650",
                                       kind="municipality")
    desk = service.save_desk(admin, None, name="Kortutlämning Lycksele", town="Lycksele", organisation_id=kommun.id,
                             is_regional=False, opening_hours="")
    other = service.save_desk(admin, None, name="Regionala kortutlämningen Umeå", town="Umeå",
                              organisation_id=region.id, is_regional=True, opening_hours="")
    users = {"admin": admin}
    specs = [
        ("orderer", Role.ORDERER, region.id, []),
        ("card_admin", Role.CARD_ADMIN, kommun.id, [desk.id]),
        ("ra_officer", Role.RA_OFFICER, region.id, []),
        ("ra_kommun", Role.RA_OFFICER, kommun.id, []),
        ("evaluator", Role.EVALUATOR, region.id, []),
    ]
    for username, role, org_id, desks in specs:
        users[username] = service.create_user(
            admin, service.UserInput(username, username.title(), roles=[role], organisation_id=org_id,
                                     desk_ids=desks), PASSWORD)
    db.session.commit()
    return World(region.id, kommun.id, desk.id, other.id, users)


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context():
        return build_world()


ROLE_USERS = {
    Role.ADMIN: "admin", Role.ORDERER: "orderer", Role.CARD_ADMIN: "card_admin",
    Role.RA_OFFICER: "ra_officer", Role.EVALUATOR: "evaluator",
}
