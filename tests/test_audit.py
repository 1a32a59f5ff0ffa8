"""The audit chain: written in the caller's transaction, append-only, and tampering is detected."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from cardadmin import audit
from cardadmin.audit.models import GENESIS_HASH, AuditEvent, append_only_statements
from cardadmin.db import db


def _write(n: int, actor=None) -> None:
    for i in range(n):
        audit.record(db.session, actor, "test.act", "thing", i, {"i": i})
    db.session.commit()


def _drop_guards(app) -> None:
    """What an attacker with database rights would do first: remove the append-only triggers."""
    engine = db.engine(app)
    with engine.begin() as conn:
        for statement in append_only_statements(engine.dialect.name, drop=True):
            conn.execute(text(statement))


def test_rows_are_chained(app_ctx):
    _write(3)
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    assert audit.verify(db.session).ok and audit.verify(db.session).checked == 3


def test_record_is_part_of_the_callers_transaction(app_ctx):
    audit.record(db.session, None, "test.act", "thing", 1)
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent)) is None


def test_personal_identity_numbers_are_masked_and_secrets_refused(app_ctx):
    data = {"note": "pnr 19121212-1212", "list": ["121212-1212"]}
    event = audit.record(db.session, None, "test.act", "person", 7, data)
    assert "1212-1212" not in event.data and "19121212-****" in event.data
    with pytest.raises(ValueError):
        audit.record(db.session, None, "test.act", "card", 1, {"PIN": "123456"})
    with pytest.raises(ValueError):
        audit.record(db.session, None, "test.act", "card", 1, {"nested": {"password": "x"}})


def test_database_refuses_update_and_delete(app, app_ctx):
    _write(2)
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert audit.verify(db.session).checked == 2


@pytest.mark.parametrize("tamper,broken_seq", [
    ("UPDATE audit_log SET data = '[]' WHERE seq = 3", 3),                   # edited content
    ("UPDATE audit_log SET actor_name = 'someone' WHERE seq = 2", 2),       # edited actor
    ("DELETE FROM audit_log WHERE seq = 2", 3),                             # removed row: next link breaks
    ("DELETE FROM audit_log WHERE seq = 1", 2),                             # removed first row
    ("UPDATE audit_log SET seq = -seq WHERE seq IN (2, 3)", None),          # reordered (see below)
])
def test_tampering_is_detected(app, app_ctx, tamper, broken_seq):
    _write(5)
    _drop_guards(app)
    if broken_seq is None:  # swap rows 2 and 3 via a temporary negative seq (unique constraint)
        db.session.execute(text(tamper))
        db.session.execute(text("UPDATE audit_log SET seq = 3 WHERE seq = -2"))
        db.session.execute(text("UPDATE audit_log SET seq = 2 WHERE seq = -3"))
        broken_seq = 2
    else:
        db.session.execute(text(tamper))
    db.session.commit()
    result = audit.verify(db.session)
    assert not result.ok
    assert result.broken_seq == broken_seq
    assert result.reason


def test_recomputed_hash_does_not_hide_an_edit(app, app_ctx):
    """Rewriting one row's hash to match its new content still breaks the link of the next row."""
    from cardadmin.audit.service import compute_hash

    _write(3)
    _drop_guards(app)
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == 2))
    row.data = json.dumps({"i": 42})
    row.hash = compute_hash(row)
    db.session.commit()
    result = audit.verify(db.session)
    assert not result.ok and result.broken_seq == 3


def test_cli_verify_passes_and_names_the_broken_row(app, runner):
    with app.app_context():
        _write(4)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "4 rader" in ok.output
    _drop_guards(app)
    with app.app_context():
        db.session.execute(text("UPDATE audit_log SET target_id = '999' WHERE seq = 3"))
        db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert "seq=3" in broken.output


@pytest.mark.postgres
def test_chain_stays_linear_with_concurrent_writers_on_postgres(make_app):
    """Eight threads, each its own connection and transaction, append at once: one linear chain."""
    app = make_app()
    writers, per_writer = 8, 25
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for i in range(per_writer):
                    audit.record(db.session, None, "test.concurrent", "thing", f"{n}-{i}")
                    db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with app.app_context():
        result = audit.verify(db.session)
        assert result.ok, result
        assert result.checked == writers * per_writer
