"""Engine and session wiring, the declarative base and shared column types.

One engine per app; one session per application context (``db.session``), closed at teardown.
Services flush; the edges (views, API handlers, CLI commands) commit once or roll back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g
from sqlalchemy import DateTime, Engine, MetaData, String, and_, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored as UTC and come back timezone-aware, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use utcnow() or an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


_ACTING_AT: ContextVar[datetime | None] = ContextVar("cardadmin_acting_at", default=None)


def utcnow() -> datetime:
    """Now, or the moment set by ``acting_at`` (every act's timestamp and audit row is taken from here)."""
    return _ACTING_AT.get() or datetime.now(UTC)


@contextmanager
def acting_at(moment: datetime) -> Iterator[None]:
    """Date the acts done inside at ``moment`` (an aware datetime): loading dated history, such as the demo's
    pilot weeks, through the same services as real work. No request path uses it."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to acting_at")
    token = _ACTING_AT.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _ACTING_AT.reset(token)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and real transactions (SQLAlchemy's documented pysqlite recipe).

    pysqlite by default runs SELECTs outside any transaction; taking over BEGIN makes a read-then-write
    unit of work one snapshot, so a concurrent writer makes it fail instead of silently interleaving.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock at once: concurrent writers queue on busy_timeout instead of one of
        # them failing when it upgrades a stale read snapshot to a write (SQLITE_BUSY_SNAPSHOT).
        mode = " IMMEDIATE" if conn.get_execution_options().get(SQLITE_IMMEDIATE) else ""
        conn.exec_driver_sql(f"BEGIN{mode}")


SQLITE_IMMEDIATE = "cardadmin_sqlite_immediate"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Database:
    """Flask extension: ``db.init_app(app)``, then ``db.session`` inside an app context."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["cardadmin.engine"] = engine
        app.extensions["cardadmin.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
        app.teardown_appcontext(self._close_session)
        if engine.dialect.name == "sqlite":
            app.before_request(self._writers_queue)

    def _writers_queue(self) -> None:
        """On SQLite a request that may write starts its transaction as a writer, so two people acting on the
        same order at once are served one after the other (the second then sees it already handled), as the
        row locks of PostgreSQL do."""
        from flask import request

        if request.method in UNSAFE_METHODS:
            self.begin_writer()

    def begin_writer(self) -> None:
        """Start this session's next transaction as a writer (IMMEDIATE on SQLite; nothing to do elsewhere).
        A deferred SQLite transaction that has read cannot become a writer while another connection writes: it
        fails at once with 'database is locked' whatever the busy timeout, so a request that will write says so
        before its first read."""
        self.session.connection(execution_options={SQLITE_IMMEDIATE: True})

    @staticmethod
    def engine(app: Flask) -> Engine:
        return app.extensions["cardadmin.engine"]

    @property
    def session(self) -> Session:
        from flask import current_app

        if "db_session" not in g:
            g.db_session = current_app.extensions["cardadmin.sessionmaker"]()
        return g.db_session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()  # rolls back anything not committed


db = Database()


def one_of(column: str, values: Iterable[Any]) -> str:
    """A CHECK constraint's SQL: ``column`` holds one of ``values`` (an enum's members)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


def code_point_string(length: int) -> Any:
    """A string column that compares and sorts by code point on every database: SQLite's binary collation, and
    PostgreSQL's "C" collation, whose plain B-tree indexes then serve ``starts_with`` (LIKE 'x%') and ORDER BY
    alike, whatever the database's locale. For search keys and identifiers, never for text shown sorted."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def starts_with(column: Any, prefix: str) -> Any:
    """``column`` begins with ``prefix`` (case as given), in a form the column's ordinary index serves.

    SQLite cannot use an index for LIKE 'x%' (its LIKE ignores ASCII case, the index does not), so there it is
    a range; any string that begins with ``prefix`` sorts between ``prefix`` and ``prefix`` + U+10FFFF in
    SQLite's binary order. Elsewhere LIKE, which PostgreSQL serves from a C-collation or pattern index."""
    if db.session.get_bind().dialect.name == "sqlite":
        return and_(column >= prefix, column < prefix + "\U0010ffff")
    return column.startswith(prefix, autoescape=True)


def starts_with_from(column: Any, prefix: str) -> Any:
    """``starts_with`` for a query that also bounds ``column`` from below by a value beginning with ``prefix`` (a
    keyset position, say as a row value). On SQLite only the upper end: given two lower bounds its planner seeks
    the prefix and filters the position, reading everything before it. PostgreSQL seeks the tighter of the two."""
    if db.session.get_bind().dialect.name == "sqlite":
        return column < prefix + "\U0010ffff"
    return starts_with(column, prefix)
