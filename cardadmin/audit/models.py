from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from cardadmin.db import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One act: who did what to which target, when. Rows are chained: ``hash`` covers the row and
    ``prev_hash``; ``prev_hash`` is unique, so the chain cannot fork even if a lock were bypassed."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    # Whose business the act concerns (for RA scope and per-organisation reports); None for system acts.
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    data: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly what was hashed
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id", "seq"),
        Index("ix_audit_log_actor", "actor_name", "seq"),
        Index("ix_audit_log_at", "at"),
    )


# Append-only in the database itself: UPDATE and DELETE are refused by triggers. (Someone with the
# rights to drop a trigger can still tamper; that is what the hash chain and `audit verify` detect.)
SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]
POSTGRES_APPEND_ONLY = [
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete"]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "DROP FUNCTION IF EXISTS audit_log_append_only()",
]


def append_only_statements(dialect: str, *, drop: bool = False) -> list[str]:
    if dialect == "sqlite":
        return SQLITE_DROP if drop else SQLITE_APPEND_ONLY
    if dialect == "postgresql":
        return POSTGRES_DROP if drop else POSTGRES_APPEND_ONLY
    return []


for _dialect in ("sqlite", "postgresql"):
    for _stmt in append_only_statements(_dialect):
        event.listen(AuditEvent.__table__, "after_create", DDL(_stmt).execute_if(dialect=_dialect))
