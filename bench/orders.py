"""Order pages at scale: the RA approval queue, the desk queue and the card search, with 10 k and 1 M orders
in SQLite. Each page is requested through the real app (login, gate, scoped queries, templates).

Floor, measured in the same run: the very SQL statements the page ran (captured while it rendered) replayed
through plain sqlite3 on the same file. The ratio page / floor is the application's own cost on top of the
database's; the issue's targets are p95 ≤ 50 ms per page and p95 at 1 M ≤ 1.5 × p95 at 10 k.

    BENCH_ORDER_SIZES=10000,1000000 python -m bench orders

BENCH_ORDER_KEEP=<directory> keeps the built databases there and reuses them in later runs (building 1 M orders
takes minutes); a file is reused only while the schema and the loader are those it was built with.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SIZES = [int(s) for s in os.environ.get("BENCH_ORDER_SIZES", "10000,1000000").split(",")]
REQUESTS = int(os.environ.get("BENCH_ORDER_REQUESTS", "60"))
KEEP = os.environ.get("BENCH_ORDER_KEEP", "")
PASSWORD = "Bench-password-1"
CHUNK = 50_000

# Share of orders per status: most cards are in use; queues hold a few per cent.
STATUS_MIX = [("ordered", 3.0), ("approved", 1.0), ("in_production", 1.0), ("at_desk", 2.0), ("handed_over", 0.5),
              ("active", 79.0), ("revoked", 7.0), ("expired", 5.5), ("rejected", 0.5), ("cancelled", 0.5)]
WITH_CARD = {"at_desk", "handed_over", "active", "revoked", "expired"}
# 100 given names, each about 1 % of staff (Anna, the commonest in Sweden, is about 1.5 % of the population).
_GIVEN_NAMES = ("Anna Maria Eva Karin Kristina Lena Kerstin Sara Emma Ingrid Malin Jenny Hanna Linda Susanne Elin "
         "Sofia "
         "Annika Monica Helena Johanna Inger Marie Ulla Katarina Elisabeth Camilla Ida Julia Linnea Frida Cecilia "
         "Therese Åsa Ebba Maja Agnes Alice Tove Moa Ellen Matilda Amanda Klara Lisa Vera Saga Wilma Stina Ylva "
         "Lars Mikael Anders Johan Erik Per Karl Peter Jan Thomas Daniel Fredrik Hans Andreas Stefan Mats Magnus "
         "Mattias Jonas Niklas Bengt Björn Martin Nils Oskar Sven Olof Henrik Gustav Emil Viktor Anton Axel Simon "
         "Jakob Ola Göran Leif Tobias Rickard Patrik Joakim Robert Sebastian Marcus Kent Åke Ulf Roger Jörgen"
         )
GIVEN = _GIVEN_NAMES.split()
# 256 surnames (16 stems × 16 endings): the commonest is about 0.4 % of staff, as Andersson is of Sweden's.
SURNAMES = [stem + end for stem in ["Berg", "Lind", "Holm", "Sand", "Fors", "Nord", "Sjö", "Ek", "Björk", "Hed",
                                    "Mark", "Ström", "Lund", "Dahl", "Wik", "Åker"]
            for end in ["", "gren", "qvist", "ström", "berg", "man", "lund", "ling", "borg", "dal", "sten", "blad",
                        "feldt", "hammar", "ros", "vall"]]


def _app(url: str, *, create: bool = True) -> Any:
    from cardadmin import create_app
    from cardadmin.db import Base, db
    from cardadmin.models import import_all

    import_all()
    app = create_app({"SECRET_KEY": "b" * 40, "DATABASE_URL": url})
    if create:
        Base.metadata.create_all(db.engine(app))
    return app


def _world(app: Any) -> dict[str, Any]:
    """Organisations, desks and the users whose pages we measure, made through the services."""
    from cardadmin.accounts import service
    from cardadmin.db import db
    from cardadmin.roles import Role

    with app.app_context():
        admin = service.create_user(None, service.UserInput("admin", "Bench Admin", roles=[Role.ADMIN]), PASSWORD)
        orgs = [service.save_organisation(admin, None, name="Region Västerbotten", org_number="232100-0222",
                                          kind="region")]
        for name, number in [("Lycksele kommun", "212000-2650"), ("Vindelns kommun", "212000-2627"),
                             ("Umeå kommun", "212000-2700"), ("Skellefteå kommun", "212000-2742")]:
            orgs.append(service.save_organisation(admin, None, name=name, org_number=number, kind="municipality"))
        desks = [service.save_desk(admin, None, name=f"Kortutlämning {town}", town=town, organisation_id=o.id,
                                   is_regional=town == "Umeå", opening_hours="")
                 for town, o in zip(["Umeå", "Lycksele", "Vindeln", "Skellefteå"], orgs[:4], strict=True)]
        service.create_user(admin, service.UserInput("ra", "Bench RA", roles=[Role.RA_OFFICER],
                                                     organisation_id=orgs[0].id), PASSWORD)
        service.create_user(admin, service.UserInput("desk", "Bench Desk", roles=[Role.CARD_ADMIN],
                                                     organisation_id=orgs[1].id, desk_ids=[desks[1].id]), PASSWORD)
        orderer = service.create_user(admin, service.UserInput("orderer", "Bench Orderer", roles=[Role.ORDERER],
                                                               organisation_id=orgs[0].id), PASSWORD)
        db.session.commit()
        return {"orgs": [o.id for o in orgs], "desks": [d.id for d in desks], "orderer": orderer.id}


def _fill(path: Path, n: int, world: dict[str, Any]) -> float:
    """n persons, n orders and their cards, straight into the app's tables (bulk load, not the services)."""
    rng = random.Random(n)
    statuses = rng.choices([s for s, _ in STATUS_MIX], weights=[w for _, w in STATUS_MIX], k=n)
    # Half the staff work for the region; the rest for the municipalities.
    org_weights = [50, 15, 10, 15, 10]
    start = datetime(2021, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    span = 5 * 365 * 24 * 3600
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    began = time.perf_counter()
    for offset in range(0, n, CHUNK):
        persons, cards, orders = [], [], []
        for i in range(offset, min(offset + CHUNK, n)):
            pid = i + 1
            org = rng.choices(world["orgs"], weights=org_weights)[0]
            desk = world["desks"][rng.randrange(len(world["desks"]))]
            created = start + timedelta(seconds=span * i / n)
            stamp = created.strftime("%Y-%m-%d %H:%M:%S.%f")
            given, surname = GIVEN[rng.randrange(len(GIVEN))], SURNAMES[rng.randrange(len(SURNAMES))]
            persons.append((pid, f"SE2321000222-B{pid}", given, surname, given.casefold(), surname.casefold(),
                            "", "", "", org, None, None, 0, None, None, stamp, stamp))
            status = statuses[i]
            card_id = None
            if status in WITH_CARD:
                card_id = pid
                cards.append((card_id, f"9752{pid:015d}", pid, org, desk, status, None, stamp, stamp))
            step = (created + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S.%f")
            orders.append((pid, "new", status, pid, world["orderer"], org, desk, None, card_id, "", "", None, stamp,
                           step if status not in ("ordered", "rejected", "cancelled") else None,
                           step if status == "at_desk" else None))
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO person (id, hsa_id, given_name, surname, given_name_key, surname_key, title, "
                         "mail, telephone, organisation_id, unit_id, personnummer, protected_identity, start_date, "
                         "end_date, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", persons)
        conn.executemany("INSERT INTO card (id, card_number, person_id, organisation_id, desk_id, status, "
                         "expires_on, created_at, status_changed_at) VALUES (?,?,?,?,?,?,?,?,?)", cards)
        conn.executemany("INSERT INTO card_order (id, order_type, status, person_id, orderer_id, organisation_id, "
                         "desk_id, replaces_card_id, card_id, comment, decision_reason, decided_by_id, created_at, "
                         "approved_at, at_desk_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", orders)
        conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - began


PAGES = [
    ("RA queue", "ra", "/bestallningar/att-godkanna"),
    ("desk queue", "desk", "/utlamning/"),
    ("search by name", "ra", "/kort/sok?q=lindgren"),
    ("search by first and surname", "ra", "/kort/sok?q=Anna+Åker"),
    # The same two kinds of name search with a full page at both sizes (the two above show 27 and 6 rows at 10 k).
    ("search by name, full page", "ra", "/kort/sok?q=ann"),
    ("search by two words, full page", "ra", "/kort/sok?q=a+b"),
    ("search by card number", "desk", "/kort/sok?kortnummer={desk_card_prefix}"),
    ("search by status", "ra", "/kort/sok?status=at_desk"),
]


def _login(app: Any, username: str) -> Any:
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _capture(app: Any, client: Any, path: str) -> list[tuple[str, Any]]:
    """The SQL one request runs, with its parameters."""
    from sqlalchemy import event

    from cardadmin.db import db

    statements: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    engine = db.engine(app)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return statements


def _measure(app: Any, path: Path, world: dict[str, Any]) -> dict[str, dict[str, float]]:
    clients = {u: _login(app, u) for u in ("ra", "desk")}
    raw = sqlite3.connect(path)
    # A card at the Lycksele desk, typed without its last digit (what a search box usually gets).
    (number,) = raw.execute("SELECT card_number FROM card WHERE desk_id = ? ORDER BY id DESC LIMIT 1",
                            (world["desks"][1],)).fetchone()
    results: dict[str, dict[str, float]] = {}
    for label, username, template in PAGES:
        url = template.format(desk_card_prefix=number[:-1])
        client = clients[username]
        for _ in range(5):
            assert client.get(url).status_code == 200, url
        body = client.get(url).get_data(as_text=True)
        rows = body.count("<tr") - body.count("<thead")  # table rows shown: what the page renders
        page_times = []
        for _ in range(REQUESTS):
            began = time.perf_counter()
            client.get(url)
            page_times.append((time.perf_counter() - began) * 1000)
        statements = _capture(app, client, url)
        floor_times = []
        for _ in range(REQUESTS):
            began = time.perf_counter()
            for sql, params in statements:
                raw.execute(sql, params).fetchall()
            floor_times.append((time.perf_counter() - began) * 1000)
        results[label] = {"p50": statistics.median(page_times), "p95": _p(page_times, 0.95),
                          "floor_p95": _p(floor_times, 0.95), "queries": len(statements), "rows": rows}
    raw.close()
    return results


def _fingerprint() -> str:
    """What a kept database depends on: the schema (as SQLite DDL) and the code that fills it."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    from cardadmin.db import Base
    from cardadmin.models import import_all

    import_all()
    parts = [str(CreateTable(t).compile(dialect=sqlite.dialect())) for t in Base.metadata.sorted_tables]
    parts += sorted(str(CreateIndex(i).compile(dialect=sqlite.dialect()))
                    for t in Base.metadata.sorted_tables for i in t.indexes)
    parts += [inspect.getsource(_world), inspect.getsource(_fill), repr((STATUS_MIX, GIVEN, SURNAMES))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def _database(folder: Path, n: int) -> tuple[Any, Path, dict[str, Any]]:
    """The app on a database of n orders: built here, or (BENCH_ORDER_KEEP) one kept from an earlier run."""
    path = folder / f"orders-{n}-{_fingerprint()}.db"
    built = path.with_suffix(".json")  # written last: its presence says the file is complete
    if KEEP and built.exists():
        print(f"\n{n:,} orders: reusing {path}".replace(",", " "))
        return _app(f"sqlite:///{path}", create=False), path, json.loads(built.read_text())
    path.unlink(missing_ok=True)
    app = _app(f"sqlite:///{path}")
    world = _world(app)
    load = _fill(path, n, world)
    print(f"\n{n:,} orders loaded in {load:.1f} s".replace(",", " "))
    built.write_text(json.dumps(world))
    return app, path, world


def main(sizes: list[int] | None = None) -> None:
    sizes = sizes or SIZES
    by_size: dict[int, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(KEEP) if KEEP else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            app, path, world = _database(folder, n)
            by_size[n] = _measure(app, path, world)
            print("| page | rows | queries | p50 ms | p95 ms | floor p95 ms (same SQL, raw sqlite3) | p95 / floor |")
            print("|---|---|---|---|---|---|---|")
            for label, r in by_size[n].items():
                print(f"| {label} | {r['rows']:.0f} | {r['queries']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | "
                      f"{r['floor_p95']:.2f} | {r['p95'] / max(r['floor_p95'], 0.001):.1f} × |")
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        print(f"\n| page | p95 at {small:,} | p95 at {large:,} | ratio (target ≤ 1.5) | p50 ratio |".replace(",", " "))
        print("|---|---|---|---|---|")
        for label in by_size[small]:
            a, b = by_size[small][label], by_size[large][label]
            print(f"| {label} | {a['p95']:.1f} ms | {b['p95']:.1f} ms | {b['p95'] / a['p95']:.2f} | "
                  f"{b['p50'] / a['p50']:.2f} |")
