"""Audit chain: append and verify throughput on SQLite, against a floor of raw sqlite3 + hashlib doing
the same work (same rows, same canonical JSON, same SHA-256) in the same run."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

ROWS = int(os.environ.get("BENCH_AUDIT_ROWS", "20000"))
BATCH = 500  # rows per transaction, as a busy desk day's sweep might write


def _app(url: str):  # type: ignore[no-untyped-def]
    from cardadmin import create_app
    from cardadmin.db import Base, db
    from cardadmin.models import import_all

    import_all()
    app = create_app({"SECRET_KEY": "b" * 40, "DATABASE_URL": url})
    Base.metadata.create_all(db.engine(app))
    return app


def _ours(path: Path, rows: int = ROWS) -> tuple[float, float]:
    from cardadmin import audit
    from cardadmin.db import db

    app = _app(f"sqlite:///{path}")
    with app.app_context():
        start = time.perf_counter()
        for i in range(rows):
            audit.record(db.session, None, "bench.act", "order", i, {"i": i, "note": "hämtat vid disk"})
            if i % BATCH == BATCH - 1:
                db.session.commit()
        db.session.commit()
        append = time.perf_counter() - start
        start = time.perf_counter()
        result = audit.verify(db.session)
        check = time.perf_counter() - start
        assert result.ok and result.checked == rows, result
    return append, check


def _floor(path: Path, rows: int = ROWS) -> tuple[float, float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE log (seq INTEGER PRIMARY KEY, body TEXT, prev TEXT UNIQUE, hash TEXT)")
    start = time.perf_counter()
    prev = "0" * 64
    conn.execute("BEGIN")
    for i in range(rows):
        body = json.dumps({"seq": i + 1, "action": "bench.act", "data": {"i": i, "note": "hämtat vid disk"},
                           "prev_hash": prev}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(body.encode()).hexdigest()
        conn.execute("INSERT INTO log VALUES (?, ?, ?, ?)", (i + 1, body, prev, digest))
        prev = digest
        if i % BATCH == BATCH - 1:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    conn.execute("COMMIT")
    append = time.perf_counter() - start
    start = time.perf_counter()
    prev = "0" * 64
    for _seq, body, link, digest in conn.execute("SELECT seq, body, prev, hash FROM log ORDER BY seq"):
        assert link == prev and hashlib.sha256(body.encode()).hexdigest() == digest
        prev = digest
    check = time.perf_counter() - start
    conn.close()
    return append, check


def main(rows: int = ROWS) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours_append, ours_verify = _ours(Path(tmp) / "ours.db", rows)
        floor_append, floor_verify = _floor(Path(tmp) / "floor.db", rows)
    print(f"## audit chain (SQLite, {rows} rows, {BATCH} per transaction)")
    print("| step | cardadmin rows/s | floor rows/s | time ratio (ours / floor) |")
    print("|---|---|---|---|")
    print(f"| append | {rows / ours_append:,.0f} | {rows / floor_append:,.0f} | {ours_append / floor_append:.1f} × |")
    print(f"| verify | {rows / ours_verify:,.0f} | {rows / floor_verify:,.0f} | {ours_verify / floor_verify:.1f} × |")


if __name__ == "__main__":
    main()
