"""Time-entry exports with 1M entries (SQLite): CSV speed against the sqlite3 command-line tool dumping the
same rows (the same SELECT, compiled) in the same run; XLSX peak RSS in a child process; the full pilot
dashboard's time, on the 1M-entry database and on a pilot-sized one.

Targets (issue 6): CSV ≥ 0.5 × the sqlite3 tool's speed, XLSX peak RSS ≤ 150 MB, dashboard ≤ 200 ms.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))
YEAR = 2026
CLERKS = 40
INSERT_BATCH = 20000


def _app(url: str):  # type: ignore[no-untyped-def]
    from cardadmin import create_app
    from cardadmin.db import Base, db
    from cardadmin.models import import_all

    import_all()
    app = create_app({"SECRET_KEY": "b" * 40, "DATABASE_URL": url})
    Base.metadata.create_all(db.engine(app))
    return app


def populate(app, rows: int) -> None:  # type: ignore[no-untyped-def]
    """Two pilot sites, CLERKS card administrators, approved weeks, ``rows`` entries (Core bulk insert)."""
    from sqlalchemy import insert

    from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, User, UserRole
    from cardadmin.db import db
    from cardadmin.timelog.models import Activity, TimeEntry, Timesheet
    from cardadmin.timelog.service import seed_activities

    with app.app_context():
        s = db.session
        region = Organisation(name="Region Västerbotten", org_number="2321000222", kind="region")
        kommuner = [Organisation(name=n, org_number=o, kind="municipality")
                    for n, o in (("Lycksele kommun", "2120002650"), ("Vindelns kommun", "2120002577"))]
        s.add_all([region, *kommuner])
        s.flush()
        desks = [Desk(name=f"Kortutlämning {t}", town=t, organisation_id=k.id, opening_hours="Mån–fre 08–16")
                 for t, k in zip(("Lycksele", "Vindeln"), kommuner, strict=True)]
        s.add_all(desks)
        s.flush()
        periods = [PilotPeriod(desk_id=desks[0].id, name="Pilot Lycksele", year=YEAR, week_from=37, week_to=43),
                   PilotPeriod(desk_id=desks[1].id, name="Pilot Vindeln", year=YEAR, week_from=39, week_to=45)]
        s.add_all(periods)
        seed_activities()
        clerks = [User(username=f"ka{n}", full_name=f"Korthandläggare {n}", password_hash="x", session_token="x",
                       organisation_id=kommuner[n % 2].id) for n in range(CLERKS)]
        s.add_all(clerks)
        s.flush()
        s.add_all([UserRole(user_id=u.id, role="card_admin") for u in clerks])
        sheets = {}
        for u in clerks:
            p = periods[u.id % 2]
            for w in range(p.week_from, p.week_to + 1):
                sheet = Timesheet(user_id=u.id, iso_year=YEAR, iso_week=w, status="approved")
                s.add(sheet)
                sheets[(u.id, w)] = sheet
        s.flush()
        activity_ids = [a.id for a in s.query(Activity)]
        orgs = [region.id, *[k.id for k in kommuner]]
        s.commit()
        rng = random.Random(1)
        now = datetime.now(UTC)
        table = TimeEntry.__table__
        batch = []
        for i in range(rows):
            u = clerks[i % CLERKS]
            p = periods[u.id % 2]
            week = p.week_from + (i // CLERKS) % (p.week_to - p.week_from + 1)
            day = date.fromisocalendar(YEAR, week, 1 + (i // (CLERKS * 7)) % 5)
            minutes = rng.randint(5, 90)
            batch.append({
                "timesheet_id": sheets[(u.id, week)].id, "user_id": u.id, "desk_id": p.desk_id,
                "pilot_period_id": p.id, "activity_id": activity_ids[i % len(activity_ids)],
                "organisation_id": orgs[i % 3], "work_date": day, "iso_year": YEAR, "iso_week": week,
                "start_time": None, "end_time": None, "minutes": minutes, "persons_handled": i % 4,
                "journeys_avoided": i % 2, "km_avoided": Decimal(240 * (i % 2)),
                "note": "=1+1" if i % 1000 == 0 else ("Kö vid öppning" if i % 7 == 0 else ""), "source": "",
                "created_at": now, "updated_at": now,
            })
            if len(batch) == INSERT_BATCH:
                s.execute(insert(table), batch)
                s.commit()
                batch = []
        if batch:
            s.execute(insert(table), batch)
            s.commit()
        from cardadmin.timelog import sums

        sums.rebuild()  # the bulk load bypassed the services that keep the weekly totals
        s.commit()


def _ours_csv(app, out: Path) -> float:  # type: ignore[no-untyped-def]
    from cardadmin.db import db
    from cardadmin.evaluation import exports

    with app.app_context():
        start = time.perf_counter()
        with out.open("wb") as handle:
            exports.write_csv(handle, None, exports.ExportFilter())
        elapsed = time.perf_counter() - start
        db.session.rollback()
    return elapsed


def floor_statement():  # type: ignore[no-untyped-def]
    """The same rows and columns as the export, as one joined SELECT for the sqlite3 tool (which must do the
    lookups the export does in memory)."""
    from sqlalchemy import select

    from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, User
    from cardadmin.timelog.models import Activity, TimeEntry, Timesheet

    return (select(TimeEntry.id, TimeEntry.work_date, TimeEntry.iso_year, TimeEntry.iso_week, TimeEntry.start_time,
                   TimeEntry.end_time, TimeEntry.minutes, TimeEntry.minutes / 60.0, User.username, User.full_name,
                   Desk.name, PilotPeriod.name, Activity.name, Organisation.name, TimeEntry.persons_handled,
                   TimeEntry.journeys_avoided, TimeEntry.km_avoided, TimeEntry.note, Timesheet.status)
            .join(Timesheet, Timesheet.id == TimeEntry.timesheet_id).join(User, User.id == TimeEntry.user_id)
            .join(Desk, Desk.id == TimeEntry.desk_id).join(PilotPeriod, PilotPeriod.id == TimeEntry.pilot_period_id)
            .join(Activity, Activity.id == TimeEntry.activity_id)
            .join(Organisation, Organisation.id == TimeEntry.organisation_id).order_by(TimeEntry.id))


def _sqlite_tool_csv(app, db_path: Path, out: Path) -> float | None:  # type: ignore[no-untyped-def]
    from cardadmin.db import db

    tool = shutil.which("sqlite3")
    if tool is None:
        return None
    with app.app_context():
        sql = str(floor_statement().compile(db.engine(app), compile_kwargs={"literal_binds": True}))
    start = time.perf_counter()
    with out.open("wb") as handle:
        subprocess.run([tool, "-csv", "-header", str(db_path), sql], stdout=handle, check=True)
    return time.perf_counter() - start


XLSX_CHILD = """
import resource, sys, time
from cardadmin import create_app
from cardadmin import spreadsheet
from cardadmin.evaluation import exports
app = create_app({"SECRET_KEY": "b" * 40, "DATABASE_URL": sys.argv[1]})
with app.app_context():
    start = time.perf_counter()
    spreadsheet.write_xlsx(sys.argv[2], [("Tidsposter", exports.HEADER, exports.rows(None, exports.ExportFilter()))])
    elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _xlsx_child(url: str, out: Path) -> tuple[float, float]:
    result = subprocess.run([sys.executable, "-c", XLSX_CHILD, url, str(out)], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parent.parent)
    elapsed, kib = result.stdout.split()
    return float(elapsed), int(kib) / 1024


def _dashboard_ms(app) -> float:  # type: ignore[no-untyped-def]
    from cardadmin.db import db
    from cardadmin.evaluation import figures

    with app.app_context():
        figures.dashboard(YEAR)  # warm
        times = []
        for _ in range(5):
            start = time.perf_counter()
            sites, combined = figures.dashboard(YEAR)
            times.append((time.perf_counter() - start) * 1000)
            db.session.expunge_all()
        assert combined.total.minutes > 0 and len(sites) == 2
    return statistics.median(times)


def main(rows: int = ROWS) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "export.db"
        url = f"sqlite:///{db_path}"
        app = _app(url)
        start = time.perf_counter()
        populate(app, rows)
        fill = time.perf_counter() - start
        ours = _ours_csv(app, Path(tmp) / "ours.csv")
        tool = _sqlite_tool_csv(app, db_path, Path(tmp) / "tool.csv")
        xlsx_s, xlsx_mb = _xlsx_child(url, Path(tmp) / "ours.xlsx")
        dash_big = _dashboard_ms(app)
        small_path = Path(tmp) / "pilot.db"
        small = _app(f"sqlite:///{small_path}")
        populate(small, 2 * 7 * 5 * 4 * 6)  # 2 sites × 7 weeks × 5 days × 4 clerks-ish × 6 entries a day
        dash_small = _dashboard_ms(small)
        lines = sum(1 for _ in (Path(tmp) / "ours.csv").open("rb")) - 1
        assert lines == rows, (lines, rows)
    print(f"## time-entry export (SQLite, {rows:,} entries; filled in {fill:.0f} s)")
    print("| measure | cardadmin | floor / target | ratio |")
    print("|---|---|---|---|")
    if tool:
        print(f"| CSV export | {ours:.2f} s ({rows / ours:,.0f} rows/s) | sqlite3 tool {tool:.2f} s "
              f"({rows / tool:,.0f} rows/s) | {tool / ours:.2f} × the tool's speed (target ≥ 0.5 ×) |")
    else:
        print(f"| CSV export | {ours:.2f} s ({rows / ours:,.0f} rows/s) | sqlite3 tool not installed | – |")
    print(f"| XLSX export | {xlsx_s:.1f} s, peak RSS {xlsx_mb:.0f} MB | ≤ 150 MB | {xlsx_mb / 150:.2f} of the limit |")
    print(f"| full pilot dashboard, {rows:,} entries | {dash_big:.0f} ms | ≤ 200 ms | {dash_big / 200:.2f} |")
    print(f"| full pilot dashboard, pilot-sized ({2 * 7 * 5 * 4 * 6} entries) | {dash_small:.0f} ms | ≤ 200 ms | "
          f"{dash_small / 200:.2f} |")


if __name__ == "__main__":
    main()
