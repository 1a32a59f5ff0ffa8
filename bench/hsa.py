"""HSA: import N person entries from CSV and from LDIF, and diff an N-entry directory (real slapd), on SQLite.
Each measured step runs in its own process, which reports its peak RSS (resource.getrusage); each has a floor
measured in the same run: plain csv parsing + executemany of the same rows (imports), and a plain ldap3 paged
read of the same directory (diff).

    python -m bench hsa                 # N = BENCH_HSA_ROWS (default 100 000)
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = int(os.environ.get("BENCH_HSA_ROWS", "100000"))
ORG = "SE2321000222"
UNITS = [(f"{ORG}-U{i:02d}", f"Enhet {i} Älvdalen") for i in range(20)]
RSS_LIMIT_MB = 200


def _person(i: int) -> tuple[str, str, str, str, str]:
    return (f"{ORG}-P{i:07d}", "Åsa" if i % 2 else "Örjan", f"Öberg{i}", "Sjuksköterska", UNITS[i % len(UNITS)][0])


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("objectClass,hsaIdentity,givenName,sn,title,hsaUnitIdentity,ou\n")
        for hsa_id, name in UNITS:
            out.write(f"hsaUnit,{hsa_id},,,,,{name}\n")
        for i in range(rows):
            hsa_id, given, sn, title, unit = _person(i)
            out.write(f"hsaPerson,{hsa_id},{given},{sn},{title},{unit},\n")


def write_ldif(path: Path, rows: int, base: str = "dc=hsa,dc=test", *, with_base: bool = False) -> None:
    with path.open("w", encoding="utf-8") as out:
        if with_base:
            out.write(f"dn: {base}\nobjectClass: dcObject\nobjectClass: organization\ndc: hsa\no: HSA\n\n")
        for hsa_id, name in UNITS:
            out.write(f"dn: ou={name},{base}\nobjectClass: organizationalUnit\nobjectClass: hsaUnit\nou: {name}\n"
                      f"hsaIdentity: {hsa_id}\n\n")
        for i in range(rows):
            hsa_id, given, sn, title, unit = _person(i)
            out.write(f"dn: hsaIdentity={hsa_id},{base}\nobjectClass: inetOrgPerson\nobjectClass: hsaPerson\n"
                      f"cn: {given} {sn}\ngivenName: {given}\nsn: {sn}\ntitle: {title}\nhsaIdentity: {hsa_id}\n"
                      f"hsaUnitIdentity: {unit}\n\n")


# ---------------------------------------------------------------- the measured steps (one process each)


def _app(db_path: Path):  # type: ignore[no-untyped-def]
    from cardadmin import create_app
    from cardadmin.db import Base, db
    from cardadmin.models import import_all

    import_all()
    # A batch step, as a CLI command is (GC_FREEZE off: the process must finalise its database at exit).
    app = create_app({"SECRET_KEY": "b" * 40, "DATABASE_URL": f"sqlite:///{db_path}", "GC_FREEZE": False})
    if not db_path.exists() or db_path.stat().st_size == 0:
        Base.metadata.create_all(db.engine(app))
        with app.app_context():
            from cardadmin.accounts import service
            from cardadmin.hsa.rules import SystemActor

            service.save_organisation(SystemActor(), None, name="Region Västerbotten", org_number="232100-0222",
                                      kind="region")
            db.session.commit()
    return app


def step_import(path: Path, db_path: Path, fmt: str) -> dict:
    from cardadmin.db import db
    from cardadmin.hsa import formats, importer
    from cardadmin.hsa.changelog import ChangeContext
    from cardadmin.hsa.rules import SystemActor

    app = _app(db_path)
    with app.app_context():
        start = time.perf_counter()
        with path.open("rb") as handle:
            _lines, rows = formats.open_rows(handle, fmt, None)
            result = importer.run_import(ChangeContext(SystemActor("system:bench"), "import"), rows, apply=True)
        db.session.commit()
        seconds = time.perf_counter() - start
    assert result.commit and result.problem_count == 0, result.problems[:3]
    return {"rows": result.rows, "seconds": seconds}


def step_floor_csv(path: Path, db_path: Path) -> dict:
    import csv

    start = time.perf_counter()
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, hsa_id TEXT UNIQUE, given TEXT, sn TEXT, title TEXT,"
                 " unit TEXT)")
    count = 0
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch = []
        for row in reader:
            count += 1
            batch.append((row[1], row[2], row[3], row[4], row[5]))
            if len(batch) == 1000:
                conn.executemany("INSERT INTO person (hsa_id, given, sn, title, unit) VALUES (?,?,?,?,?)", batch)
                batch.clear()
        conn.executemany("INSERT INTO person (hsa_id, given, sn, title, unit) VALUES (?,?,?,?,?)", batch)
    conn.commit()
    conn.close()
    return {"rows": count, "seconds": time.perf_counter() - start}


def step_floor_ldif(path: Path, db_path: Path) -> dict:
    start = time.perf_counter()
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE entry (id INTEGER PRIMARY KEY, hsa_id TEXT UNIQUE, attrs TEXT)")
    count, batch, attrs = 0, [], {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line:
                name, _, value = line.partition(": ")
                attrs[name] = value
                continue
            if attrs:
                count += 1
                batch.append((attrs.get("hsaIdentity"), json.dumps(attrs, ensure_ascii=False)))
                attrs = {}
            if len(batch) == 1000:
                conn.executemany("INSERT INTO entry (hsa_id, attrs) VALUES (?,?)", batch)
                batch.clear()
    conn.executemany("INSERT INTO entry (hsa_id, attrs) VALUES (?,?)", batch)
    conn.commit()
    conn.close()
    return {"rows": count, "seconds": time.perf_counter() - start}


def step_diff(url: str, db_path: Path) -> dict:
    from cardadmin.hsa import ldapsync
    from cardadmin.hsa.changelog import ChangeContext
    from cardadmin.hsa.rules import SystemActor

    app = _app(db_path)
    with app.app_context():
        start = time.perf_counter()
        options = ldapsync.DirectoryOptions(url=url, base="dc=hsa,dc=test", timeout=60, page_size=1000)
        result = ldapsync.run_sync(ChangeContext(SystemActor("system:bench"), "sync"),
                                   ldapsync.read_directory(options), apply=False)
        seconds = time.perf_counter() - start
    return {"rows": result.new + result.changed + result.unchanged, "seconds": seconds,
            "changed": result.changed, "gone": result.gone, "new": result.new}


def step_floor_diff(url: str) -> dict:
    import ldap3

    start = time.perf_counter()
    conn = ldap3.Connection(ldap3.Server(url, get_info=ldap3.NONE), auto_bind=True, read_only=True)
    count = 0
    for entry in conn.extend.standard.paged_search("dc=hsa,dc=test", "(objectClass=hsaPerson)", ldap3.SUBTREE,
                                                   attributes=["*"], paged_size=1000, generator=True):
        if entry.get("type") == "searchResEntry":
            count += 1
    conn.unbind()
    return {"rows": count, "seconds": time.perf_counter() - start}


def _worker(argv: list[str]) -> None:
    step, *args = argv
    if step == "import":
        out = step_import(Path(args[0]), Path(args[1]), args[2])
    elif step == "floor-csv":
        out = step_floor_csv(Path(args[0]), Path(args[1]))
    elif step == "floor-ldif":
        out = step_floor_ldif(Path(args[0]), Path(args[1]))
    elif step == "diff":
        out = step_diff(args[0], Path(args[1]))
    else:
        out = step_floor_diff(args[0])
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _run(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.hsa", *args], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"bench step {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _line(name: str, ours: dict, floor: dict) -> str:
    ok = "ja" if ours["peak_rss_mb"] <= RSS_LIMIT_MB else "NEJ"
    return (f"| {name} | {ours['rows'] / ours['seconds']:,.0f} | {floor['rows'] / floor['seconds']:,.0f} | "
            f"{ours['seconds'] / floor['seconds']:.1f} × | {ours['peak_rss_mb']:.0f} MB ({ok}) | "
            f"{floor['peak_rss_mb']:.0f} MB |")


def main(rows: int = ROWS, *, directory: bool = True) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        write_csv(tmp / "persons.csv", rows)
        write_ldif(tmp / "persons.ldif", rows)
        lines = [
            _line("import CSV", _run("import", str(tmp / "persons.csv"), str(tmp / "csv.db"), "csv"),
                  _run("floor-csv", str(tmp / "persons.csv"), str(tmp / "floor-csv.db"))),
            _line("import LDIF", _run("import", str(tmp / "persons.ldif"), str(tmp / "ldif.db"), "ldif"),
                  _run("floor-ldif", str(tmp / "persons.ldif"), str(tmp / "floor-ldif.db"))),
        ]
        size_mb = (tmp / "persons.csv").stat().st_size / 1e6, (tmp / "persons.ldif").stat().st_size / 1e6
        if directory:
            lines.append(_diff_line(tmp, rows))
    print(f"## HSA (SQLite, {rows} person entries; CSV {size_mb[0]:.1f} MB, LDIF {size_mb[1]:.1f} MB)")
    print(f"| step | cardadmin rows/s | floor rows/s | time ratio (ours / floor) | peak RSS ≤ {RSS_LIMIT_MB} MB "
          f"| floor peak RSS |")
    print("|---|---|---|---|---|---|")
    for line in lines:
        print(line)


def _diff_line(tmp: Path, rows: int) -> str:
    from tests.hsa_ldap.slapd import Slapd, available

    if not available():
        return "| diff directory | (slapd not installed: scripts/setup.sh --test) | | | | |"
    server = Slapd(tmp / "slapd")
    write_ldif(tmp / "directory.ldif", rows, with_base=True)
    server.slapadd(tmp / "directory.ldif")
    server.start()
    try:
        # The register is the CSV import's database; change one entry in a hundred so there is a difference.
        shutil.copy(tmp / "csv.db", tmp / "diff.db")
        conn = sqlite3.connect(tmp / "diff.db")
        conn.execute("UPDATE person SET title = 'Läkare' WHERE id % 100 = 0")
        conn.commit()
        conn.close()
        ours = _run("diff", server.url, str(tmp / "diff.db"))
        assert ours["changed"] == rows // 100 and ours["new"] == 0 and ours["gone"] == 0, ours
        floor = _run("floor-diff", server.url)
    finally:
        server.stop()
    return _line("diff directory", ours, floor)


if __name__ == "__main__":
    _worker(sys.argv[1:])
