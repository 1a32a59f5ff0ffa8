"""Inera's charges per organisation per pilot period, and the monthly statistics per municipality.

Counts come from the data: cards produced at the pilot desk during the period (one shipment per card, and the
configured number of certificates per card), and HSA entries created at the desk in its pilot weeks: the HSA
change log's creations billed to the pilot period (``HsaChange.pilot_period_id``, fixed from the act's desk and
Swedish date), counted as distinct acts exactly as the billing report (/hsa/rapport) counts them. Prices are those
valid on the period's first day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import distinct, func, select

from cardadmin.accounts.models import Desk, Organisation, PilotPeriod
from cardadmin.db import db
from cardadmin.evaluation.models import Factor, PriceItem
from cardadmin.evaluation.settings import factors, price_on
from cardadmin.hsa.models import HsaChange
from cardadmin.orders.models import Card, Order, SupportCase
from cardadmin.timefmt import LOCAL, local_day_end, local_day_start
from cardadmin.timelog.models import TimeEntry
from cardadmin.timelog.money import reimbursement, to_ore
from cardadmin.timelog.rules import period_dates


@dataclass
class CostRow:
    period: str
    organisation: str
    period_id: int = 0
    counts: dict[PriceItem, Decimal] = field(default_factory=dict)
    prices: dict[PriceItem, Decimal] = field(default_factory=dict)

    def cost(self, item: PriceItem) -> Decimal:
        return to_ore(self.counts.get(item, Decimal(0)) * self.prices.get(item, Decimal(0)))

    @property
    def total(self) -> Decimal:
        return to_ore(sum((self.counts.get(i, Decimal(0)) * self.prices.get(i, Decimal(0)) for i in PriceItem),
                          Decimal(0)))

    @property
    def cards(self) -> int:
        return int(self.counts.get(PriceItem.CARD, 0))


def inera_costs(periods: list[PilotPeriod]) -> list[CostRow]:
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)).all())
    per_card = factors()[Factor.CERTIFICATES_PER_CARD]
    rows: list[CostRow] = []
    for period in periods:
        first, last = period_dates(period.year, period.week_from, period.week_to)
        since, until = local_day_start(first), local_day_end(last)
        prices = price_on(first)
        counts: dict[int, dict[PriceItem, Decimal]] = defaultdict(dict)
        for org_id, cards in db.session.execute(
                select(Card.organisation_id, func.count()).where(
                    Card.desk_id == period.desk_id, Card.created_at >= since, Card.created_at < until)
                .group_by(Card.organisation_id)):
            counts[org_id][PriceItem.CARD] = Decimal(cards)
            counts[org_id][PriceItem.SHIPPING] = Decimal(cards)
            counts[org_id][PriceItem.CERTIFICATE] = Decimal(cards) * per_card
        for org_id, entries in db.session.execute(
                select(HsaChange.organisation_id, func.count(distinct(HsaChange.act))).where(
                    HsaChange.pilot_period_id == period.id, HsaChange.action == "created")
                .group_by(HsaChange.organisation_id)):
            counts[org_id][PriceItem.HSA_ENTRY] = Decimal(entries)
        for org_id in sorted(counts, key=lambda o: names.get(o, "")):
            rows.append(CostRow(period.name, names.get(org_id, "Okänd organisation"), period.id, counts[org_id],
                               prices))
    return rows


@dataclass
class MonthRow:
    municipality: str
    month: str
    orders: int = 0
    handed_over: int = 0
    minutes: int = 0
    journeys: int = 0
    km: Decimal = Decimal(0)
    support_cases: int = 0
    support_out_of_hours: int = 0
    reimbursement: Decimal = Decimal(0)

    @property
    def hours(self) -> Decimal:
        return to_ore(Decimal(self.minutes) / 60)


def monthly_statistics(year: int) -> list[MonthRow]:
    """Per municipality (the pilot desk's owner) and calendar month of ``year``."""
    desks = {d.id: d for d in db.session.scalars(select(Desk).where(Desk.is_regional.is_(False)))}
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)).all())
    rows: dict[tuple[str, str], MonthRow] = {}

    def row(desk_id: int | None, month: str) -> MonthRow | None:
        desk = desks.get(desk_id or 0)
        if desk is None:
            return None
        name = names[desk.organisation_id]
        return rows.setdefault((name, month), MonthRow(name, month))

    since = local_day_start(date(year, 1, 1))
    until = local_day_start(date(year + 1, 1, 1))
    # An order counts in the month it was placed, its card in the month it was handed over (Swedish time):
    # one placed in December and collected in January is in two years' statistics.
    for desk_id, created in db.session.execute(select(Order.desk_id, Order.created_at)
                                               .where(Order.created_at >= since, Order.created_at < until)):
        if (r := row(desk_id, f"{created.astimezone(LOCAL):%Y-%m}")) is not None:
            r.orders += 1
    for desk_id, handed in db.session.execute(select(Order.desk_id, Order.handed_over_at)
                                              .where(Order.handed_over_at >= since, Order.handed_over_at < until)):
        if (r := row(desk_id, f"{handed.astimezone(LOCAL):%Y-%m}")) is not None:
            r.handed_over += 1
    for desk_id, created, out in db.session.execute(select(SupportCase.desk_id, SupportCase.created_at,
                                                           SupportCase.out_of_hours)
                                                    .where(SupportCase.created_at >= since,
                                                           SupportCase.created_at < until)):
        if (r := row(desk_id, f"{created.astimezone(LOCAL):%Y-%m}")) is not None:
            r.support_cases += 1
            r.support_out_of_hours += int(bool(out))
    for desk_id, day, minutes, journeys, km in db.session.execute(
            select(TimeEntry.desk_id, TimeEntry.work_date, func.sum(TimeEntry.minutes),
                   func.sum(TimeEntry.journeys_avoided), func.sum(TimeEntry.km_avoided))
            .where(TimeEntry.work_date >= date(year, 1, 1),
                   TimeEntry.work_date <= date(year, 12, 31))
            .group_by(TimeEntry.desk_id, TimeEntry.work_date)):
        if (r := row(desk_id, f"{day:%Y-%m}")) is not None:
            r.minutes += int(minutes or 0)
            r.journeys += int(journeys or 0)
            r.km += Decimal(km or 0)
    for money in reimbursement("month"):
        if money.key.startswith(f"{year}-") and (money.organisation, money.key) in rows:
            rows[(money.organisation, money.key)].reimbursement = money.amount
        elif money.key.startswith(f"{year}-"):
            rows[(money.organisation, money.key)] = MonthRow(money.organisation, money.key,
                                                             reimbursement=money.amount)
    return [rows[k] for k in sorted(rows)]
