"""Migrations: the head matches the models, and every revision upgrades and downgrades (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from cardadmin import migrate
from cardadmin.db import Base, make_engine
from cardadmin.models import import_all
from tests.conftest import PG_URL

import_all()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    # Named after the test database, so parallel runs against different test databases do not collide.
    name = f"{make_url(PG_URL).database}_migrations"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diff


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_head_matches_the_models(empty_database):
    migrate.upgrade(empty_database)
    assert _diff(empty_database) == []


def test_every_revision_upgrades_and_downgrades(empty_database):
    script = ScriptDirectory.from_config(migrate.alembic_config(empty_database))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert revisions, "no migrations found"
    for revision in revisions:
        migrate.upgrade(empty_database, revision)
    full = _tables(empty_database)
    for revision in reversed(revisions):
        migrate.downgrade(empty_database, f"{revision}-1" if revision != revisions[0] else "base")
    assert _tables(empty_database) <= {"alembic_version"}
    migrate.upgrade(empty_database)
    assert _tables(empty_database) == full


def test_migrated_audit_log_is_append_only(empty_database):
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_log (seq, at, actor_name, action, target_type, target_id, data, prev_hash, hash) "
            "VALUES (1, '2026-01-01 00:00:00', 'x', 'a', 't', '1', '{}', 'p', 'h')"
        ))
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    engine.dispose()
