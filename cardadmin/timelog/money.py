"""Hourly rates and the reimbursement the region pays each municipality, from approved entries only.

Money is Decimal throughout. Each group's amount is Σ minutes × rate × (100 + on-cost %) / 6000, computed
exactly and rounded to öre once, at the end (never per entry).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select

from cardadmin import audit
from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, User
from cardadmin.db import db
from cardadmin.errors import Conflict, InvalidInput, NotFound
from cardadmin.roles import Role
from cardadmin.security import require_role
from cardadmin.timelog import rules
from cardadmin.timelog.models import HourlyRate, SheetStatus, TimeEntry, Timesheet

ORE = Decimal("0.01")


def to_ore(amount: Decimal) -> Decimal:
    return amount.quantize(ORE, rounding=ROUND_HALF_UP)


def save_rate(actor: User, rate_id: int | None, *, organisation_id: int, valid_from: date | None,
              valid_to: date | None, rate: str | Decimal, on_cost_percent: str | Decimal) -> HourlyRate:
    require_role(actor, Role.ADMIN)
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("Organisationen finns inte.")
    if valid_from is None or valid_to is None or valid_from > valid_to:
        raise InvalidInput("Ange giltighetsperiod med från-datum före till-datum.", field="valid_from")
    amount = rules.parse_amount(rate, "Timpris", "rate")
    percent = rules.parse_amount(on_cost_percent, "Personalomkostnadspålägg (%)", "on_cost_percent",
                                 maximum=Decimal("200"))
    if amount is None:
        raise InvalidInput("Ange timpris.", field="rate")
    overlapping = db.session.scalar(select(HourlyRate.id).where(
        HourlyRate.organisation_id == organisation_id, HourlyRate.id != (rate_id or 0),
        HourlyRate.valid_from <= valid_to, HourlyRate.valid_to >= valid_from))
    if overlapping:
        raise Conflict(f"{org.name} har redan ett timpris som gäller under en del av perioden.")
    row = db.session.get(HourlyRate, rate_id) if rate_id else HourlyRate(organisation_id=organisation_id)
    if row is None:
        raise NotFound("Timpriset finns inte.")
    row.organisation_id, row.valid_from, row.valid_to = organisation_id, valid_from, valid_to
    row.rate, row.on_cost_percent = amount, percent or Decimal("0")
    db.session.add(row)
    db.session.flush()
    audit.record(db.session, actor, "hourly_rate.save", "hourly_rate", row.id,
                 {"valid_from": valid_from.isoformat(), "valid_to": valid_to.isoformat(), "rate": str(amount),
                  "on_cost_percent": str(row.on_cost_percent)}, organisation_id=organisation_id)
    return row


def rates() -> list[HourlyRate]:
    return list(db.session.scalars(select(HourlyRate).order_by(HourlyRate.organisation_id, HourlyRate.valid_from)))


@dataclass
class Reimbursement:
    organisation: str
    key: str  # "2026-09", the pilot period's name or the organisation served
    period_id: int | None = None  # grouped by pilot period: which one (names repeat from year to year)
    minutes: int = 0
    minutes_without_rate: int = 0
    exact: Decimal = Decimal("0")  # Σ minutes × rate × (100 + %), before the single division and rounding

    @property
    def hours(self) -> Decimal:
        return to_ore(Decimal(self.minutes) / 60)

    @property
    def amount(self) -> Decimal:
        return to_ore(self.exact / 6000)


def _rate_on(day: date, org_rates: list[HourlyRate]) -> HourlyRate | None:
    return next((r for r in org_rates if r.valid_from <= day <= r.valid_to), None)


def reimbursement(by: str = "month", *, organisation_id: int | None = None,
                  period_ids: Collection[int] | None = None) -> list[Reimbursement]:
    """Per municipality (the desk's organisation) and month, pilot period or organisation served ("served"),
    from approved weeks only; with ``period_ids``, only the time logged in those pilot periods (one year's)."""
    if by not in ("month", "period", "served"):
        raise InvalidInput("Välj per månad, per pilotperiod eller per betjänad organisation.")
    stmt = (
        select(Desk.organisation_id, TimeEntry.work_date, PilotPeriod.id, PilotPeriod.name, TimeEntry.organisation_id,
               func.sum(TimeEntry.minutes))
        .join(Timesheet, Timesheet.id == TimeEntry.timesheet_id).join(Desk, Desk.id == TimeEntry.desk_id)
        .join(PilotPeriod, PilotPeriod.id == TimeEntry.pilot_period_id)
        .where(Timesheet.status == SheetStatus.APPROVED)
        .group_by(Desk.organisation_id, TimeEntry.work_date, PilotPeriod.id, PilotPeriod.name,
                  TimeEntry.organisation_id)
    )
    if organisation_id is not None:
        stmt = stmt.where(Desk.organisation_id == organisation_id)
    if period_ids is not None:
        stmt = stmt.where(TimeEntry.pilot_period_id.in_(list(period_ids)))
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)).all())
    by_org: dict[int, list[HourlyRate]] = defaultdict(list)
    for rate in rates():
        by_org[rate.organisation_id].append(rate)
    groups: dict[tuple[str, str, int], Reimbursement] = {}
    for org_id, day, period_id, period_name, served_id, minutes in db.session.execute(stmt):
        key = {"month": f"{day:%Y-%m}", "period": period_name, "served": names[served_id]}[by]
        group_period = period_id if by == "period" else None
        group = groups.setdefault((names[org_id], key, group_period or 0),
                                  Reimbursement(names[org_id], key, group_period))
        group.minutes += int(minutes)
        rate = _rate_on(day, by_org[org_id])
        if rate is None:
            group.minutes_without_rate += int(minutes)
        else:
            group.exact += int(minutes) * rate.rate * (100 + rate.on_cost_percent)
    return [groups[k] for k in sorted(groups)]


def totals(rows: list[Reimbursement]) -> dict[str, Any]:
    exact = sum((r.exact for r in rows), Decimal("0"))
    minutes = sum(r.minutes for r in rows)
    return {"minutes": minutes, "hours": to_ore(Decimal(minutes) / 60), "amount": to_ore(exact / 6000)}
