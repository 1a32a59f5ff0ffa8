"""Exports of time entries: CSV (UTF-8; optional BOM and semicolon with decimal comma for Swedish Excel) and
XLSX, both streamed in constant memory, filtered, scoped, with spreadsheet formulas neutralised.

No personal identity numbers: the columns hold none, and notes are refused with one when written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import chain
from typing import IO, Any

from sqlalchemy import ColumnElement, String, func, select, type_coerce
from sqlalchemy.orm import Session

from cardadmin import audit
from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, User
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.identifiers import scrub_personnummer
from cardadmin.roles import Role
from cardadmin.security import Grant, role_scope
from cardadmin.spreadsheet import neutralise, xlsx_tempfile
from cardadmin.timelog.models import SHEET_LABELS, Activity, SheetStatus, TimeEntry, Timesheet

HEADER = ["Post", "Datum", "Vecka", "Start", "Slut", "Minuter", "Timmar", "Användare", "Namn", "Kortutlämning",
          "Pilotperiod", "Aktivitet", "Organisation (betjänad)", "Personer/kort", "Undvikna resor",
          "Undvikna km", "Anteckning", "Status"]
BATCH = 5000


@dataclass(frozen=True)
class ExportFilter:
    desk_id: int | None = None
    pilot_period_id: int | None = None
    user_id: int | None = None
    organisation_id: int | None = None
    activity_id: int | None = None
    status: str | None = None  # open | submitted | approved
    date_from: date | None = None
    date_to: date | None = None
    pilot_period_ids: tuple[int, ...] | None = None  # one pilot year's periods (the evaluation pack's)

    def __post_init__(self) -> None:
        if self.status and self.status not in set(SheetStatus):
            raise InvalidInput("Okänd godkännandestatus.", field="status")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInput("Från-datum ligger efter till-datum.", field="date_from")


def _grants(actor: Any) -> list[Grant]:
    municipality_desks = select(Desk.id).where(Desk.organisation_id == actor.organisation_id)
    return [(Role.RA_OFFICER, TimeEntry.desk_id.in_(municipality_desks) if actor.organisation_id else None),
            (Role.CARD_ADMIN, TimeEntry.user_id == actor.id)]


def _conditions(actor: Any, f: ExportFilter) -> list[ColumnElement[bool]]:
    """Scope and filters as conditions on time_entry alone (no joins: the export scans one table and looks
    names up in small in-memory maps). Evaluators and admins export everything; an RA officer their
    municipality's desks; a card administrator their own entries; a user with several roles the union."""
    terms = [role_scope(actor, _grants, everything=(Role.ADMIN, Role.EVALUATOR))]
    for column, value in ((TimeEntry.desk_id, f.desk_id), (TimeEntry.pilot_period_id, f.pilot_period_id),
                          (TimeEntry.user_id, f.user_id), (TimeEntry.organisation_id, f.organisation_id),
                          (TimeEntry.activity_id, f.activity_id)):
        if value is not None:
            terms.append(column == value)
    if f.pilot_period_ids is not None:
        terms.append(TimeEntry.pilot_period_id.in_(f.pilot_period_ids))
    if f.status:
        terms.append(TimeEntry.timesheet_id.in_(select(Timesheet.id).where(Timesheet.status == f.status)))
    if f.date_from:
        terms.append(TimeEntry.work_date >= f.date_from)
    if f.date_to:
        terms.append(TimeEntry.work_date <= f.date_to)
    return terms


def record_export(actor: Any, f: ExportFilter, what: str) -> int:
    """Audit who exported which entries (filters and row count); the edge commits before streaming."""
    rows = count(actor, f)
    filters = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in vars(f).items() if v is not None}
    audit.record(db.session, actor, "time_entry.export", "time_entry", "*", {"format": what, "rows": rows,
                                                                             "filters": filters})
    return rows


def count(actor: Any, f: ExportFilter) -> int:
    return int(db.session.scalar(select(func.count()).select_from(TimeEntry).where(*_conditions(actor, f))) or 0)


def safe_note(note: str) -> str:
    """A note as an export writes it: any personal identity number masked (the service refuses them; this is
    the second line), and no formula a spreadsheet would run."""
    return neutralise(scrub_personnummer(note))


def totals(actor: Any, f: ExportFilter) -> dict[str, Any]:
    stmt = select(func.count(), func.coalesce(func.sum(TimeEntry.minutes), 0),
                  func.coalesce(func.sum(TimeEntry.km_avoided), 0)).where(*_conditions(actor, f))
    rows, minutes, km = db.session.execute(stmt).one()
    return {"rows": int(rows), "minutes": int(minutes), "km": Decimal(km)}


@dataclass
class _Names:
    """The export's small dimensions, neutralised once: user, desk, period, activity, organisation, status."""

    users: dict[int, tuple[str, str]]
    desks: dict[int, str]
    periods: dict[int, str]
    activities: dict[int, str]
    organisations: dict[int, str]
    status: dict[int, str]  # timesheet id → Swedish status label

    @classmethod
    def load(cls, session: Session) -> _Names:
        labels = {str(k): v for k, v in SHEET_LABELS.items()}

        def named(*columns: Any) -> dict[int, str]:
            return {i: neutralise(n) for i, n in session.execute(select(*columns))}

        return cls(
            users={i: (neutralise(u), neutralise(n)) for i, u, n in
                   session.execute(select(User.id, User.username, User.full_name))},
            desks=named(Desk.id, Desk.name), periods=named(PilotPeriod.id, PilotPeriod.name),
            activities=named(Activity.id, Activity.name), organisations=named(Organisation.id, Organisation.name),
            status={i: labels[s] for i, s in session.execute(select(Timesheet.id, Timesheet.status))})


# Dates, times and km come back as the database gives them (no per-value conversion): text on SQLite,
# date/time/Decimal objects on PostgreSQL; str() and format() below read both alike.
_RAW_COLUMNS = (
    TimeEntry.id, type_coerce(TimeEntry.work_date, String), TimeEntry.iso_year, TimeEntry.iso_week,
    type_coerce(TimeEntry.start_time, String), type_coerce(TimeEntry.end_time, String), TimeEntry.minutes,
    TimeEntry.user_id, TimeEntry.desk_id, TimeEntry.pilot_period_id, TimeEntry.activity_id,
    TimeEntry.organisation_id, TimeEntry.persons_handled, TimeEntry.journeys_avoided,
    type_coerce(TimeEntry.km_avoided, String), TimeEntry.note, TimeEntry.timesheet_id,
)


def _scan(actor: Any, f: ExportFilter, session: Session | None) -> tuple[_Names, Iterator[Any]]:
    s = session or db.session
    names = _Names.load(s)
    stmt = select(*_RAW_COLUMNS).where(*_conditions(actor, f)).order_by(TimeEntry.id)
    result = s.connection().execute(stmt.execution_options(yield_per=BATCH, stream_results=True))
    return names, chain.from_iterable(result.partitions())  # a batch at a time: no per-row fetch call


def _clock(value: Any) -> str:
    return str(value)[:5] if value is not None else ""


def rows(actor: Any, f: ExportFilter, session: Session | None = None) -> Iterator[list[Any]]:
    """The export's rows, read in batches (constant memory); values typed (int, Decimal) for XLSX.
    ``session``: for a reader outside the request (a streamed response), else the request's."""
    names, result = _scan(actor, f, session)
    for (entry_id, day, year, week, start, end, minutes, user_id, desk_id, period_id, activity_id, org_id,
         persons, journeys, km, note, sheet_id) in result:
        username, full_name = names.users[user_id]
        yield [entry_id, str(day), f"{year}-W{week:02d}", _clock(start), _clock(end), minutes,
               Decimal(minutes) / 60, username, full_name, names.desks[desk_id], names.periods[period_id],
               names.activities[activity_id], names.organisations[org_id], persons, journeys, Decimal(str(km)),
               safe_note(note), names.status[sheet_id]]


def _csv_field(text: str, delimiter: str) -> str:
    """Minimal quoting, as the csv module's QUOTE_MINIMAL does."""
    if delimiter in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_chunks(actor: Any, f: ExportFilter, *, bom: bool = False, semicolon: bool = False,
               progress: Callable[[int], None] | None = None, session: Session | None = None) -> Iterator[bytes]:
    """CSV as UTF-8 byte chunks (a web response or a file). Lines are built from pre-quoted names and a
    precomputed hours table: the export runs at the speed of the scan, not of per-cell formatting."""
    sep = ";" if semicolon else ","
    comma = "," if semicolon else "."
    hours = [f"{m / 60:.2f}".replace(".", comma) for m in range(1441)]  # no ties: m/60 never ends in 5 at 0.001

    def q(text: str) -> str:
        return _csv_field(text, sep)

    names, result = _scan(actor, f, session)
    users = {i: q(u) + sep + q(n) for i, (u, n) in names.users.items()}
    desks, periods = {i: q(n) for i, n in names.desks.items()}, {i: q(n) for i, n in names.periods.items()}
    activities = {i: q(n) for i, n in names.activities.items()}
    orgs = {i: q(n) for i, n in names.organisations.items()}
    status = {i: q(n) for i, n in names.status.items()}
    yield (("\ufeff" if bom else "") + sep.join(q(h) for h in HEADER) + "\r\n").encode("utf-8")
    lines: list[str] = []
    km_text: dict[Any, str] = {}  # few distinct distances: format each once
    for (entry_id, day, year, week, start, end, minutes, user_id, desk_id, period_id, activity_id, org_id,
         persons, journeys, km, note, sheet_id) in result:
        kms = km_text.get(km)
        if kms is None:
            kms = km_text[km] = f"{float(km):.1f}".replace(".", comma)
        lines.append(f"{entry_id}{sep}{day}{sep}{year}-W{week:02d}{sep}{_clock(start)}{sep}{_clock(end)}{sep}"
                     f"{minutes}{sep}{hours[minutes]}{sep}{users[user_id]}{sep}{desks[desk_id]}{sep}"
                     f"{periods[period_id]}{sep}{activities[activity_id]}{sep}{orgs[org_id]}{sep}{persons}{sep}"
                     f"{journeys}{sep}{kms}{sep}{q(safe_note(note)) if note else ''}{sep}{status[sheet_id]}\r\n")
        if len(lines) == BATCH:
            yield "".join(lines).encode("utf-8")
            lines.clear()
            if progress:
                progress(BATCH)
    yield "".join(lines).encode("utf-8")
    if progress:
        progress(len(lines))


def write_csv(out: IO[bytes], actor: Any, f: ExportFilter, **options: Any) -> None:
    for chunk in csv_chunks(actor, f, **options):
        out.write(chunk)


def xlsx_file(actor: Any, f: ExportFilter, progress: Callable[[int], None] | None = None) -> IO[bytes]:
    """The raw entries as an XLSX in a temporary file (deleted when closed), rewound for streaming."""
    return xlsx_tempfile([("Tidsposter", HEADER, rows(actor, f))], progress)


