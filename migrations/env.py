"""Alembic environment: the URL comes from cardadmin's config (DATABASE_URL), never from an ini file."""

from __future__ import annotations

from alembic import context

from cardadmin import config as app_config
from cardadmin.db import Base, UTCDateTime, make_engine
from cardadmin.models import import_all

import_all()
target_metadata = Base.metadata
url = context.config.attributes.get("database_url") or app_config.load()["DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write our shared column types as the plain SQL types they store (migrations stay import-free)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
