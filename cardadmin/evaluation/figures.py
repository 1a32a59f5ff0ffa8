"""The pilot's figures per site and ISO week: one home for every number the dashboards, the monthly statistics,
the evaluation pack and the exports' cross-checks show.

Orders and support cases are bucketed by their Europe/Stockholm date; time entries carry their ISO week.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select

from cardadmin.accounts.models import Desk, PilotPeriod
from cardadmin.db import db
from cardadmin.orders.models import Order, SupportCase
from cardadmin.timefmt import LOCAL, local_day_end, local_day_start
from cardadmin.timelog.models import Activity, SheetStatus, Timesheet, WeekSum
from cardadmin.timelog.rules import period_dates

Week = tuple[int, int]


@dataclass
class Figures:
    """Counts for one site (or all) over one week (or a total)."""

    orders: int = 0
    handed_over: int = 0
    lead_hours: list[float] = field(default_factory=list)
    minutes_by_activity: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    persons: int = 0
    journeys: int = 0
    km: Decimal = Decimal("0")
    support_cases: int = 0
    support_out_of_hours: int = 0

    @property
    def minutes(self) -> int:
        return sum(self.minutes_by_activity.values())

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)

    @property
    def median_lead(self) -> float | None:
        return round(statistics.median(self.lead_hours), 1) if self.lead_hours else None

    @property
    def p90_lead(self) -> float | None:
        if not self.lead_hours:
            return None
        ordered = sorted(self.lead_hours)
        return round(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)], 1)  # nearest rank

    @property
    def minutes_per_card(self) -> float | None:
        return round(self.minutes / self.handed_over, 1) if self.handed_over else None

    def add(self, other: Figures) -> None:
        self.orders += other.orders
        self.handed_over += other.handed_over
        self.lead_hours.extend(other.lead_hours)
        for name, minutes in other.minutes_by_activity.items():
            self.minutes_by_activity[name] += minutes
        self.persons += other.persons
        self.journeys += other.journeys
        self.km += other.km
        self.support_cases += other.support_cases
        self.support_out_of_hours += other.support_out_of_hours


@dataclass
class Site:
    desk: Desk | None  # None: all pilot sites combined
    periods: list[PilotPeriod]
    weeks: dict[Week, Figures]
    total: Figures

    @property
    def name(self) -> str:
        return self.desk.name if self.desk else "Alla pilotorter"


def pilot_periods(year: int | None = None) -> list[PilotPeriod]:
    stmt = select(PilotPeriod).join(Desk).where(Desk.is_regional.is_(False)).order_by(PilotPeriod.year,
                                                                                      PilotPeriod.week_from, Desk.name)
    if year is not None:
        stmt = stmt.where(PilotPeriod.year == year)
    return list(db.session.scalars(stmt))


def pilot_years() -> list[int]:
    return sorted({p.year for p in pilot_periods()}, reverse=True)


def _local_week(moment: datetime) -> Week:
    year, week, _ = moment.astimezone(LOCAL).isocalendar()
    return year, week


def _weeks_of(period: PilotPeriod) -> list[Week]:
    return [(period.year, w) for w in range(period.week_from, period.week_to + 1)]


def site_figures(desk: Desk, periods: list[PilotPeriod], *, approved_only: bool = False) -> Site:
    weeks: dict[Week, Figures] = {w: Figures() for p in periods for w in _weeks_of(p)}
    if not weeks:
        return Site(desk, periods, {}, Figures())
    first = min(period_dates(p.year, p.week_from, p.week_to)[0] for p in periods)
    last = max(period_dates(p.year, p.week_from, p.week_to)[1] for p in periods)
    since, until = local_day_start(first), local_day_end(last)
    for created in db.session.scalars(select(Order.created_at).where(
            Order.desk_id == desk.id, Order.created_at >= since, Order.created_at < until)):
        if (bucket := weeks.get(_local_week(created))) is not None:
            bucket.orders += 1
    for created, handed in db.session.execute(select(Order.created_at, Order.handed_over_at).where(
            Order.desk_id == desk.id, Order.handed_over_at >= since, Order.handed_over_at < until)):
        if (bucket := weeks.get(_local_week(handed))) is not None:
            bucket.handed_over += 1
            bucket.lead_hours.append((handed - created).total_seconds() / 3600)
    for created, out_of_hours in db.session.execute(select(SupportCase.created_at, SupportCase.out_of_hours).where(
            SupportCase.desk_id == desk.id, SupportCase.created_at >= since, SupportCase.created_at < until)):
        if (bucket := weeks.get(_local_week(created))) is not None:
            bucket.support_cases += 1
            bucket.support_out_of_hours += int(bool(out_of_hours))
    names = dict(db.session.execute(select(Activity.id, Activity.name)).all())
    stmt = (  # the running weekly totals (WeekSum), not every entry: a few hundred rows per pilot
        select(WeekSum.iso_year, WeekSum.iso_week, WeekSum.activity_id, func.sum(WeekSum.minutes),
               func.sum(WeekSum.persons_handled), func.sum(WeekSum.journeys_avoided), func.sum(WeekSum.km_avoided))
        .where(WeekSum.desk_id == desk.id, WeekSum.pilot_period_id.in_([p.id for p in periods]))
        .group_by(WeekSum.iso_year, WeekSum.iso_week, WeekSum.activity_id)
    )
    if approved_only:
        stmt = stmt.join(Timesheet, Timesheet.id == WeekSum.timesheet_id).where(
            Timesheet.status == SheetStatus.APPROVED)
    for year, week, activity_id, minutes, persons, journeys, km in db.session.execute(stmt):
        if (bucket := weeks.get((year, week))) is not None:
            bucket.minutes_by_activity[names[activity_id]] += int(minutes or 0)
            bucket.persons += int(persons or 0)
            bucket.journeys += int(journeys or 0)
            bucket.km += Decimal(km or 0)
    total = Figures()
    for figures in weeks.values():
        total.add(figures)
    return Site(desk, periods, dict(sorted(weeks.items())), total)


def dashboard(year: int | None = None, *, approved_only: bool = False) -> tuple[list[Site], Site]:
    """Each pilot site with its weeks, and all sites combined by ISO week."""
    by_desk: dict[int, list[PilotPeriod]] = defaultdict(list)
    for period in pilot_periods(year):
        by_desk[period.desk_id].append(period)
    sites = [site_figures(db.session.get(Desk, desk_id), periods, approved_only=approved_only)  # type: ignore[arg-type]
             for desk_id, periods in by_desk.items()]
    combined_weeks: dict[Week, Figures] = defaultdict(Figures)
    total = Figures()
    for site in sites:
        for week, figures in site.weeks.items():
            combined_weeks[week].add(figures)
        total.add(site.total)
    combined = Site(None, [p for s in sites for p in s.periods], dict(sorted(combined_weeks.items())), total)
    return sites, combined


def activity_names(sites: list[Site]) -> list[str]:
    names = {name for site in sites for name in site.total.minutes_by_activity}
    order = {a.name: (a.sort_order, a.name) for a in db.session.scalars(select(Activity))}
    return sorted(names, key=lambda n: order.get(n, (999, n)))


def week_label(week: Week) -> str:
    return f"v.{week[1]:02d} {week[0]}"


def month_of(day: date) -> str:
    return f"{day:%Y-%m}"
