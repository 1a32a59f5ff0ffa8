"""Configuration from the environment, the demo data command, and the console script."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select, text

from cardadmin import config
from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, Unit, User
from cardadmin.audit.models import append_only_statements
from cardadmin.db import db
from cardadmin.errors import ConfigurationError
from cardadmin.roles import Role


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        config.load(environ={"CARDADMIN_ENV": "production"})
    with pytest.raises(ConfigurationError, match="32"):
        config.load(environ={"CARDADMIN_ENV": "production", "SECRET_KEY": "short"})
    for weak in (" " * 32, "k" * 40, "ab" * 20, "\t" * 16 + "abcdefg" * 3):
        with pytest.raises(ConfigurationError, match="look random"):
            config.load(environ={"CARDADMIN_ENV": "production", "SECRET_KEY": weak})
    good = "Kq3v9-XyZ_p0aTg7LmN2bR8sWc4dE6fH"
    loaded = config.load(environ={"CARDADMIN_ENV": "production", "SECRET_KEY": good})
    assert loaded["SESSION_COOKIE_SECURE"] and not loaded["ALLOW_TEST_IDENTITIES"]


def test_production_refuses_test_identities():
    good = "Kq3v9-XyZ_p0aTg7LmN2bR8sWc4dE6fH"
    with pytest.raises(ConfigurationError, match="ALLOW_TEST_IDENTITIES"):
        config.load(environ={"CARDADMIN_ENV": "production", "SECRET_KEY": good,
                             "CARDADMIN_ALLOW_TEST_IDENTITIES": "1"})
    assert config.load(environ={"CARDADMIN_ALLOW_TEST_IDENTITIES": "1"})["ALLOW_TEST_IDENTITIES"]


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigurationError):
        config.load(environ={"CARDADMIN_ENV": "staging"})


def test_database_urls():
    assert config.load(environ={"DATABASE_URL": "postgres://u@h/db"})["DATABASE_URL"] == "postgresql+psycopg://u@h/db"
    default = config.load(environ={})["DATABASE_URL"]
    assert default.startswith("sqlite:////") and default.endswith("instance/cardadmin.db")


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app_ctx):
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite only")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_demo_data_is_complete_and_idempotent(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "handlaggare.lycksele" in first.output and "Demo-2026-kort" in first.output
    with app.app_context():
        counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (Organisation, Unit, Desk, User)]
        assert counts == [3, 6, 3, 7]
        periods = {(p.desk.town, p.week_from, p.week_to) for p in db.session.scalars(select(PilotPeriod))}
        assert periods == {("Lycksele", 37, 43), ("Vindeln", 39, 45)}
        roles = set().union(*(u.roles for u in db.session.scalars(select(User))))
        assert roles == set(Role)
        from cardadmin.orders.models import Order
        from cardadmin.orders.states import Status

        assert set(db.session.scalars(select(Order.status))) == {str(s) for s in Status}  # every state
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "inget ändrat" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 7


def test_demo_is_refused_in_production(make_app):
    prod = make_app(CARDADMIN_ENV="production")
    result = prod.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "produktion" in result.output


def test_audit_verify_on_demo_data_and_after_tampering(app, runner):
    runner.invoke(args=["demo"])
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    engine = db.engine(app)
    with engine.begin() as conn:
        for statement in append_only_statements(engine.dialect.name, drop=True):
            conn.execute(text(statement))
        conn.execute(text("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 5"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "seq=5" in result.output


def test_console_script_runs_migrations_and_demo(tmp_path):
    """The installed `cardadmin` command, as a user runs it, on a fresh SQLite file."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "SECRET_KEY": "s" * 40}
    env.pop("CARDADMIN_ENV", None)
    exe = os.path.join(os.path.dirname(sys.executable), "cardadmin")
    for args in (["db", "upgrade"], ["demo"], ["audit", "verify"]):
        done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert "rader kontrollerade" in done.stdout
    prod = subprocess.run([exe, "demo"], env={**env, "CARDADMIN_ENV": "production"}, capture_output=True,
                          text=True, timeout=60)
    assert prod.returncode == 2 and "Traceback" not in prod.stderr


def test_create_admin_command(app, runner):
    result = runner.invoke(args=["create-admin", "Chef", "--full-name", "Chef Chefsson"],
                           input="Long-enough-pw\nLong-enough-pw\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "chef"))
        assert user.roles == {Role.ADMIN}
    again = runner.invoke(args=["create-admin", "chef", "--full-name", "X"], input="Long-enough-pw\nLong-enough-pw\n")
    assert again.exit_code == 2 and "finns redan" in again.output


def test_proxy_count_trusts_forwarded_address_only_when_set(make_app):
    from flask import request

    for overrides, expected in (({}, "127.0.0.1"), ({"PROXY_COUNT": 1}, "203.0.113.9")):
        app = make_app(**overrides)
        seen = {}

        @app.route("/_addr")
        def _addr(seen=seen):
            seen["addr"] = request.remote_addr
            return ""

        _addr._cardadmin_access = "public"
        app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.9"})
        assert seen["addr"] == expected


def test_commands_are_reachable_through_flask_too(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'flask.db'}", "SECRET_KEY": "s" * 40}
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for args in (["db", "upgrade"], ["audit", "verify"]):
        done = subprocess.run([flask, "--app", "wsgi", *args], env=env, cwd=root, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    assert "0 rader kontrollerade" in done.stdout


def test_a_serving_app_takes_its_startup_objects_out_of_the_cycle_collector(monkeypatch, tmp_path):
    """gc.freeze once a serving app is built (a full collection walked ~130 000 startup objects, 60-80 ms,
    mid-request); tests, which build many apps, and CLI commands leave the collector alone."""
    import gc

    from cardadmin import create_app

    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    url = f"sqlite:///{tmp_path / 'gc.db'}"
    create_app({"SECRET_KEY": "k" * 40, "DATABASE_URL": url, "TESTING": True})
    create_app({"SECRET_KEY": "k" * 40, "DATABASE_URL": url, "GC_FREEZE": False})  # what the CLI builds
    assert frozen == []
    create_app({"SECRET_KEY": "k" * 40, "DATABASE_URL": url})  # what wsgi.py builds
    assert frozen == [1]
