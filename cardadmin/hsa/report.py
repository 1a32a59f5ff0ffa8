"""The billing report: HSA entries created, changed and removed per organisation, per month and per pilot
period (distinct acts from the change log), as rows for the screen, CSV and XLSX alike."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, func, select

from cardadmin.accounts.models import Desk, Organisation, PilotPeriod
from cardadmin.db import db
from cardadmin.hsa.models import ACTIONS, HsaChange
from cardadmin.hsa.rules import report_scope
from cardadmin.identifiers import format_org_number
from cardadmin.spreadsheet import csv_row, xlsx_tempfile

HEADER = ["Organisation", "Organisationsnummer", "Period", "Typ av period", "Skapade", "Ändrade", "Borttagna"]


@dataclass
class BillingRow:
    organisation: str
    org_number: str
    period: str
    period_kind: str  # "månad" | "pilot"
    created: int = 0
    changed: int = 0
    removed: int = 0

    def cells(self) -> list[Any]:
        return [self.organisation, format_org_number(self.org_number), self.period, self.period_kind,
                self.created, self.changed, self.removed]


def _count(actor: Any, key: Any, *where: Any) -> dict[tuple[int, Any], dict[str, int]]:
    stmt = (select(HsaChange.organisation_id, key, HsaChange.action, func.count(distinct(HsaChange.act)))
            .where(*where).group_by(HsaChange.organisation_id, key, HsaChange.action))
    scope = report_scope(actor)
    if scope is not None:
        stmt = stmt.where(HsaChange.organisation_id.in_(scope))
    out: dict[tuple[int, Any], dict[str, int]] = {}
    for org_id, period, action, n in db.session.execute(stmt):
        out.setdefault((org_id, period), dict.fromkeys(ACTIONS, 0))[action] = n
    return out


def billing_rows(actor: Any, *, year: int | None = None) -> list[BillingRow]:
    """Per organisation: one row per month with acts, then one per pilot period with acts."""
    orgs = {o.id: o for o in db.session.scalars(select(Organisation))}
    pilots = {p.id: (p, d) for p, d in db.session.execute(select(PilotPeriod, Desk).join(Desk))}
    month_filter = [HsaChange.billing_month.startswith(f"{year}-")] if year else []
    rows: list[BillingRow] = []
    for (org_id, month), counts in _count(actor, HsaChange.billing_month, *month_filter).items():
        rows.append(BillingRow(orgs[org_id].name, orgs[org_id].org_number, month, "månad", **counts))
    pilot_filter = [HsaChange.pilot_period_id.is_not(None)]
    for (org_id, pilot_id), counts in _count(actor, HsaChange.pilot_period_id, *pilot_filter).items():
        pilot, desk = pilots[pilot_id]
        if year and pilot.year != year:
            continue
        label = f"{pilot.name} ({desk.name}, {pilot.year} v.{pilot.week_from}–{pilot.week_to})"
        rows.append(BillingRow(orgs[org_id].name, orgs[org_id].org_number, label, "pilot", **counts))
    rows.sort(key=lambda r: (r.organisation, r.period_kind != "månad", r.period))
    return rows


def csv_lines(rows: list[BillingRow]) -> Iterator[str]:
    """CSV for Swedish spreadsheets: semicolons, UTF-8 with a byte-order mark so Excel reads å ä ö; text that a
    spreadsheet would run as a formula is neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    yield "\ufeff"
    for cells in [HEADER] + [r.cells() for r in rows]:
        writer.writerow(csv_row(cells))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def xlsx_file(rows: list[BillingRow]) -> Any:
    """The report as an XLSX in a temporary file the response streams and closes."""
    return xlsx_tempfile([("HSA-poster", HEADER, (r.cells() for r in rows))])
