"""record() writes an audit row in the caller's transaction; verify() walks the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from cardadmin.audit.models import GENESIS_HASH, AuditEvent
from cardadmin.db import utcnow
from cardadmin.identifiers import scrub_personnummer

# Keys that must never reach the log, whatever a caller passes.
_SECRET_KEYS = {"password", "pin", "puk", "token", "secret", "password_hash", "token_hash"}
# One application-wide lock number for pg_advisory_xact_lock: writers of the chain queue here.
_AUDIT_LOCK_KEY = 0x5A1751


def _clean(value: Any) -> Any:
    """Mask personal identity numbers in every string; refuse secrets; make values JSON-ready."""
    if isinstance(value, dict):
        for key in value:
            if str(key).lower() in _SECRET_KEYS:
                raise ValueError(f"audit data must not contain {key!r}")
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_clean(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, str):
        return scrub_personnummer(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub_personnummer(str(value))


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(event: Any) -> str:
    """SHA-256 over the canonical encoding of a row (an AuditEvent or a plain result row)."""
    body = canonical_json(
        {
            "seq": event.seq,
            "at": event.at.isoformat(timespec="microseconds"),
            "actor_id": event.actor_id,
            "actor_name": event.actor_name,
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "organisation_id": event.organisation_id,
            "data": event.data,
            "prev_hash": event.prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# Built once: the append path runs on every act, and statement construction was most of its cost.
_TAIL = select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
_INSERT = insert(AuditEvent.__table__)
_INSERTED = [c.key for c in AuditEvent.__table__.columns if c.key != "id"]


def record(
    session: Session,
    actor: Any,
    action: str,
    target_type: str,
    target_id: object,
    data: dict[str, Any] | None = None,
    *,
    organisation_id: int | None = None,
) -> AuditEvent:
    """Append one row to the chain inside the caller's transaction (the caller commits).

    ``actor`` is a User, or None for the system (scheduled sweeps, migrations)."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise chain writers until this transaction ends; READ COMMITTED then sees the true tail.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})
    last = session.execute(_TAIL).first()
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or "system",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        organisation_id=organisation_id,
        data=canonical_json(_clean(data or {})),
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = compute_hash(event)
    # A Core INSERT, not session.add(): the row is never changed after this, so the unit of work has nothing
    # to track, and appending costs a third as much. The returned event is a detached record of what was written.
    columns = {key: getattr(event, key) for key in _INSERTED}
    event.id = session.execute(_INSERT, columns).inserted_primary_key[0]
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str = ""


def verify(session: Session) -> VerifyResult:
    """Walk the chain in order; name the first row whose link or hash is wrong."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    # Plain rows, not ORM objects: verification reads every row, and identity-map bookkeeping would triple its cost.
    rows = session.execute(
        select(*AuditEvent.__table__.columns).order_by(AuditEvent.seq).execution_options(yield_per=5000)
    )
    for event in rows:
        if event.seq != expected_seq:
            return VerifyResult(False, checked, event.seq, event.id, f"expected seq {expected_seq}, found {event.seq}")
        if event.prev_hash != expected_prev:
            return VerifyResult(False, checked, event.seq, event.id, "prev_hash does not match the previous row")
        if compute_hash(event) != event.hash:
            return VerifyResult(False, checked, event.seq, event.id, "row content does not match its hash")
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    return VerifyResult(True, checked)


@dataclass(frozen=True)
class AuditQuery:
    target_type: str | None = None
    target_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    organisation_id: int | None = None  # RA scope; None = every organisation (admins)
    before_seq: int | None = None  # keyset pagination: newest first


def search(session: Session, query: AuditQuery, limit: int = 50) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if query.target_type:
        stmt = stmt.where(AuditEvent.target_type == query.target_type)
    if query.target_id:
        stmt = stmt.where(AuditEvent.target_id == query.target_id)
    if query.actor:
        stmt = stmt.where(AuditEvent.actor_name == query.actor.strip().lower())
    if query.action:
        stmt = stmt.where(AuditEvent.action.startswith(query.action, autoescape=True))
    if query.since:
        stmt = stmt.where(AuditEvent.at >= query.since)
    if query.until:
        stmt = stmt.where(AuditEvent.at < query.until)
    if query.organisation_id is not None:
        stmt = stmt.where(AuditEvent.organisation_id == query.organisation_id)
    if query.before_seq:
        stmt = stmt.where(AuditEvent.seq < query.before_seq)
    return list(session.scalars(stmt))


def history(session: Session, target_type: str, target_id: object) -> list[AuditEvent]:
    """Everything that happened to one target, oldest first (card, person and order pages)."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.target_type == target_type, AuditEvent.target_id == str(target_id))
        .order_by(AuditEvent.seq)
    )
    return list(session.scalars(stmt))
