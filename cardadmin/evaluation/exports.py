"""Exports of time entries: CSV (UTF-8; optional BOM and semicolon with decimal comma for Swedish Excel) and
XLSX, both streamed in constant memory, filtered, scoped, with spreadsheet formulas neutralised.

No personal identity numbers: the columns hold none, and notes are refused with one when written.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import ColumnElement, Select, false, func, select, true
from sqlalchemy.orm import Session

from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, User
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.roles import Role
from cardadmin.timelog.models import SHEET_LABELS, Activity, SheetStatus, TimeEntry, Timesheet

HEADER = ["Post", "Datum", "Vecka", "Start", "Slut", "Minuter", "Timmar", "Användare", "Namn", "Kortutlämning",
          "Pilotperiod", "Aktivitet", "Organisation (betjänad)", "Personer/kort", "Undvikna resor",
          "Undvikna km", "Anteckning", "Status"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
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

    def __post_init__(self) -> None:
        if self.status and self.status not in set(SheetStatus):
            raise InvalidInput("Okänd godkännandestatus.", field="status")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInput("Från-datum ligger efter till-datum.", field="date_from")


def export_scope(actor: Any) -> ColumnElement[bool]:
    """Evaluators and admins export everything; an RA officer their municipality's desks; a card
    administrator their own entries."""
    if actor is None or actor.has_role(Role.ADMIN, Role.EVALUATOR):
        return true()
    if actor.has_role(Role.RA_OFFICER) and actor.organisation_id is not None:
        return Desk.organisation_id == actor.organisation_id
    if actor.has_role(Role.CARD_ADMIN):
        return TimeEntry.user_id == actor.id
    return false()


def _filtered(stmt: Select[Any], actor: Any, f: ExportFilter) -> Select[Any]:
    stmt = stmt.where(export_scope(actor))
    for column, value in ((TimeEntry.desk_id, f.desk_id), (TimeEntry.pilot_period_id, f.pilot_period_id),
                          (TimeEntry.user_id, f.user_id), (TimeEntry.organisation_id, f.organisation_id),
                          (TimeEntry.activity_id, f.activity_id), (Timesheet.status, f.status)):
        if value is not None and value != "":
            stmt = stmt.where(column == value)
    if f.date_from:
        stmt = stmt.where(TimeEntry.work_date >= f.date_from)
    if f.date_to:
        stmt = stmt.where(TimeEntry.work_date <= f.date_to)
    return stmt


def _joined(stmt: Select[Any]) -> Select[Any]:
    return (stmt.join(Timesheet, Timesheet.id == TimeEntry.timesheet_id).join(User, User.id == TimeEntry.user_id)
            .join(Desk, Desk.id == TimeEntry.desk_id).join(PilotPeriod, PilotPeriod.id == TimeEntry.pilot_period_id)
            .join(Activity, Activity.id == TimeEntry.activity_id)
            .join(Organisation, Organisation.id == TimeEntry.organisation_id))


def count(actor: Any, f: ExportFilter) -> int:
    return int(db.session.scalar(_filtered(_joined(select(func.count()).select_from(TimeEntry)), actor, f)) or 0)


def totals(actor: Any, f: ExportFilter) -> dict[str, Any]:
    stmt = _filtered(_joined(select(func.count(), func.coalesce(func.sum(TimeEntry.minutes), 0),
                                    func.coalesce(func.sum(TimeEntry.km_avoided), 0)).select_from(TimeEntry)), actor, f)
    rows, minutes, km = db.session.execute(stmt).one()
    return {"rows": int(rows), "minutes": int(minutes), "km": Decimal(km)}


def neutralise(text: str) -> str:
    """A leading = + - @ (or tab/CR) would make a spreadsheet run the cell as a formula: prefix an apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def row_statement(actor: Any, f: ExportFilter) -> Select[Any]:
    """The SELECT behind every export (the benchmark hands the same statement to the sqlite3 tool)."""
    return _filtered(_joined(select(
        TimeEntry.id, TimeEntry.work_date, TimeEntry.iso_year, TimeEntry.iso_week, TimeEntry.start_time,
        TimeEntry.end_time, TimeEntry.minutes, User.username, User.full_name, Desk.name, PilotPeriod.name,
        Activity.name, Organisation.name, TimeEntry.persons_handled, TimeEntry.journeys_avoided,
        TimeEntry.km_avoided, TimeEntry.note, Timesheet.status)), actor, f).order_by(TimeEntry.id)


def rows(actor: Any, f: ExportFilter, session: Session | None = None) -> Iterator[list[Any]]:
    """The export's rows, read in batches (constant memory); values typed (int, Decimal) for XLSX.
    ``session``: for a reader outside the request (a streamed response), else the request's."""
    stmt = row_statement(actor, f)
    labels = {str(k): v for k, v in SHEET_LABELS.items()}
    result = (session or db.session).execute(stmt.execution_options(yield_per=BATCH, stream_results=True))
    for (entry_id, day, year, week, start, end, minutes, username, name, desk, period, activity, org, persons,
         journeys, km, note, status) in result:
        yield [entry_id, day.isoformat(), f"{year}-W{week:02d}", start.strftime("%H:%M") if start else "",
               end.strftime("%H:%M") if end else "", minutes, Decimal(minutes) / 60, neutralise(username),
               neutralise(name), neutralise(desk), neutralise(period), neutralise(activity), neutralise(org),
               persons, journeys, Decimal(km), neutralise(note), labels[status]]


def _csv_cell(value: Any, decimal_comma: bool) -> Any:
    if isinstance(value, Decimal):
        text = f"{value:.2f}"
        return text.replace(".", ",") if decimal_comma else text
    return value


def csv_chunks(actor: Any, f: ExportFilter, *, bom: bool = False, semicolon: bool = False,
               progress: Callable[[int], None] | None = None, session: Session | None = None) -> Iterator[bytes]:
    """CSV as UTF-8 byte chunks (a web response or a file)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if semicolon else ",", lineterminator="\r\n")
    writer.writerow(HEADER)
    yield (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    n = 0
    for row in rows(actor, f, session):
        writer.writerow([_csv_cell(v, semicolon) for v in row])
        n += 1
        if n % BATCH == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            if progress:
                progress(BATCH)
    yield buffer.getvalue().encode("utf-8")
    if progress:
        progress(n % BATCH)


def write_csv(out: IO[bytes], actor: Any, f: ExportFilter, **options: Any) -> None:
    for chunk in csv_chunks(actor, f, **options):
        out.write(chunk)


def write_xlsx(path: str, sheets: list[tuple[str, list[str], Iterator[list[Any]]]],
               progress: Callable[[int], None] | None = None) -> None:
    """Write named sheets of rows with xlsxwriter in constant_memory mode (rows go to disk as written)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                      "strings_to_urls": False, "tmpdir": tempfile.gettempdir()})
    bold = book.add_format({"bold": True})
    for title, header, body in sheets:
        sheet = book.add_worksheet(title[:31])
        sheet.write_row(0, 0, header, bold)
        for r, row in enumerate(body, start=1):
            for c, value in enumerate(row):
                if isinstance(value, Decimal):
                    sheet.write_number(r, c, float(value))
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, "" if value is None else str(value))
            if progress and r % BATCH == 0:
                progress(BATCH)
    book.close()


def xlsx_file(actor: Any, f: ExportFilter, progress: Callable[[int], None] | None = None) -> IO[bytes]:
    """The raw entries as an XLSX in a temporary file (deleted when closed), rewound for streaming."""
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the caller streams and closes it)
    write_xlsx(handle.name, [("Tidsposter", HEADER, rows(actor, f))], progress)
    handle.seek(0)
    return handle


def stream_file(handle: IO[bytes], chunk: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while data := handle.read(chunk):
            yield data
    finally:
        handle.close()
