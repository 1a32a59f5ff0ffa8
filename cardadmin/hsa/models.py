"""Tables of the HSA capability: unit memberships, the HSA-ID registry and the change log.

The registry (``hsa_identity``) holds every HSA-ID in use by a person or a unit, with a primary key on the
HSA-ID. Triggers on ``person`` and ``unit`` keep it in step with every insert, HSA-ID change and delete, so
"one HSA-ID across persons and units" holds in the database itself: two transactions that create a person and a
unit with the same HSA-ID at the same moment cannot both commit, whichever code path wrote them. The services
still check first, to give a clear message (the trigger's unique violation becomes a 409 via unique_or_conflict).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from cardadmin.db import Base, UTCDateTime, utcnow

ENTRY_TYPES = ("person", "unit")
ACTIONS = ("created", "changed", "removed")
ACTION_LABELS = {"created": "Skapad", "changed": "Ändrad", "removed": "Borttagen"}


class HsaIdentity(Base):
    """Every HSA-ID in use, and whether a person or a unit holds it (maintained by triggers)."""

    __tablename__ = "hsa_identity"

    hsa_id: Mapped[str] = mapped_column(String(31), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))

    __table_args__ = (CheckConstraint("kind IN ('person', 'unit')", name="kind"),)


# A person entry's unit memberships (HSA: a person may belong to several units). ``person.unit_id`` stays the
# primary unit the order flow shows; it is always one of the memberships when set.
person_unit = Table(
    "person_unit",
    Base.metadata,
    Column("person_id", ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("unit.id"), primary_key=True, index=True),
)


class HsaChange(Base):
    """One attribute of one act on an HSA entry, for billing (separate from the audit log).

    An act (``act``) is one creation, change or removal; a change writes one row per attribute changed,
    a creation and a removal one row with ``attribute`` NULL. The billing report counts distinct acts."""

    __tablename__ = "hsa_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    act: Mapped[str] = mapped_column(String(32))  # uuid4 hex, shared by the rows of one act
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(10))
    entry_type: Mapped[str] = mapped_column(String(10))
    entry_id: Mapped[int] = mapped_column(Integer)  # person.id or unit.id (a removed unit's row is gone)
    hsa_id: Mapped[str] = mapped_column(String(31))
    attribute: Mapped[str | None] = mapped_column(String(40))  # LDAP attribute name
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desk.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    billing_month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, Swedish time
    pilot_period_id: Mapped[int | None] = mapped_column(ForeignKey("pilot_period.id"))
    source: Mapped[str] = mapped_column(String(10))  # web | api | import | sync | demo

    __table_args__ = (
        CheckConstraint("action IN ('created', 'changed', 'removed')", name="action"),
        CheckConstraint("entry_type IN ('person', 'unit')", name="entry_type"),
        Index("ix_hsa_change_billing", "organisation_id", "billing_month", "action"),
        Index("ix_hsa_change_entry", "entry_type", "entry_id", "id"),
        Index("ix_hsa_change_pilot", "pilot_period_id", "action"),
    )


def _sqlite_triggers(table: str) -> list[str]:
    # ``table`` is one of two constants ("person", "unit"), never input.
    return [
        f"CREATE TRIGGER {table}_hsa_identity_insert AFTER INSERT ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO hsa_identity (hsa_id, kind) VALUES (NEW.hsa_id, '{table}'); END",
        f"CREATE TRIGGER {table}_hsa_identity_update AFTER UPDATE OF hsa_id ON {table} "  # noqa: S608
        f"WHEN OLD.hsa_id <> NEW.hsa_id BEGIN "
        f"DELETE FROM hsa_identity WHERE hsa_id = OLD.hsa_id; "
        f"INSERT INTO hsa_identity (hsa_id, kind) VALUES (NEW.hsa_id, '{table}'); END",
        f"CREATE TRIGGER {table}_hsa_identity_delete AFTER DELETE ON {table} BEGIN "  # noqa: S608
        f"DELETE FROM hsa_identity WHERE hsa_id = OLD.hsa_id; END",
    ]


POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION hsa_identity_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.hsa_id <> NEW.hsa_id) THEN "
    "DELETE FROM hsa_identity WHERE hsa_id = OLD.hsa_id; END IF; "
    "IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD.hsa_id <> NEW.hsa_id) THEN "
    "INSERT INTO hsa_identity (hsa_id, kind) VALUES (NEW.hsa_id, TG_TABLE_NAME); END IF; "
    "RETURN NULL; END $$"
)


def registry_statements(dialect: str, *, drop: bool = False) -> list[str]:
    """DDL for the registry triggers (used by create_all below and by migration 0005)."""
    tables = ("person", "unit")
    if dialect == "sqlite":
        if drop:
            return [f"DROP TRIGGER IF EXISTS {t}_hsa_identity_{op}" for t in tables
                    for op in ("insert", "update", "delete")]
        return [s for t in tables for s in _sqlite_triggers(t)]
    if dialect == "postgresql":
        if drop:
            return [f"DROP TRIGGER IF EXISTS {t}_hsa_identity ON {t}" for t in tables] + [
                "DROP FUNCTION IF EXISTS hsa_identity_sync()"]
        return [POSTGRES_FUNCTION] + [
            f"CREATE TRIGGER {t}_hsa_identity AFTER INSERT OR DELETE OR UPDATE OF hsa_id ON {t} "
            f"FOR EACH ROW EXECUTE FUNCTION hsa_identity_sync()" for t in tables]
    return []


# After every table exists (the triggers name three tables): create_all in tests and benchmarks.
for _dialect in ("sqlite", "postgresql"):
    for _stmt in registry_statements(_dialect):
        event.listen(Base.metadata, "after_create", DDL(_stmt).execute_if(dialect=_dialect))
