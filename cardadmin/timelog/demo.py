"""Demo data for the time log and the evaluation: a pilot's worth of entries, most weeks approved.

Made through the same services (and audit rows) as real work; called once from cardadmin/demo.py.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import select

from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, User
from cardadmin.db import acting_at, db
from cardadmin.demo_orders import OPEN_WEEKDAYS, at
from cardadmin.evaluation import settings
from cardadmin.hsa.models import HsaChange
from cardadmin.orders.models import Order
from cardadmin.timefmt import LOCAL
from cardadmin.timelog import money, service, sheets
from cardadmin.timelog.service import EntryInput

# desk → (round-trip km to the regional desk, label, hourly rate, on-cost %)
SITES = {
    "Kortutlämning Lycksele": ("240", "Lycksele–Umeå", "385", "40.15"),
    "Kortutlämning Vindeln": ("110", "Vindeln–Umeå", "372", "40.15"),
}
PRICES = {"card": "150", "shipping": "45", "hsa_entry": "25", "certificate": "60"}  # demo prices, not Inera's
# (activity code, minutes per person, what is counted that day, served for the region): the persons of each
# entry are the day's recorded hand-overs, orders placed for the desk, and HSA entries worked on; PIN/PUK help
# is a fixed share.
DAY_PLAN = [
    ("identity_handover", 20, "handed_over", True),
    ("order_handling", 8, "ordered", True),
    ("hsa_entry", 12, "hsa", True),
    ("pin_puk_support", 10, "support", False),
]
WEEKLY = [("coordination", 60), ("card_stock", 30), ("training", 45)]
RISKS = [
    ("resources", "Få korthandläggare per kommun: sårbart vid sjukdom och semester", 3, 3,
     "Minst två utbildade korthandläggare per pilotort", "Projektledaren"),
    ("technical", "Kortskrivare och läsare saknar reserv på pilotorten", 2, 4,
     "Reservutrustning på regionala kortutlämningen", "IT-samordnaren"),
    ("timetable", "Utvärderingen V.44–45 överlappar Vindelns sista pilotveckor", 3, 2,
     "Preliminära siffror V.44, slutliga V.46", "Projektledaren"),
]
OBSERVATIONS = [
    ("service", "Personal från hälsocentralen slapp åka till Umeå; flera kom på lunchen."),
    ("availability", "Torsdagarnas förlängda öppettid användes mest av kvällspersonal."),
    ("risk", "En kortmottagare saknade godkänd id-handling; vittnesförfarandet behövdes."),
]


def add_demo_time(users: dict[str, User]) -> None:
    """Rates, distances, prices, a pilot's worth of entries per site (most weeks approved), risks, observations."""
    service.seed_activities()
    admin, evaluator = users["admin"], users["utvarderare"]
    rng = random.Random(37)  # the same demo every time
    desks = {d.name: d for d in db.session.scalars(select(Desk))}
    codes = {a.code: a.id for a in service.active_activities()}
    region = db.session.scalar(select(Organisation).where(Organisation.kind == "region"))
    assert region is not None
    for name, (km, label, rate, on_cost) in SITES.items():
        desk = desks[name]
        service.save_distance(admin, desk_id=desk.id, unit_id=None, km=km, label=label)
        periods = list(db.session.scalars(select(PilotPeriod).where(PilotPeriod.desk_id == desk.id)))
        for period in periods:
            money.save_rate(admin, None, organisation_id=desk.organisation_id,
                            valid_from=date(period.year, 1, 1), valid_to=date(period.year, 12, 31), rate=rate,
                            on_cost_percent=on_cost)
    for item, price in PRICES.items():
        settings.save_price(evaluator, item=item, valid_from=date(2020, 1, 1), valid_to=date(2030, 12, 31),
                            price=price)
    for clerk_name, desk_name in (("handlaggare.lycksele", "Kortutlämning Lycksele"),
                                  ("handlaggare.vindeln", "Kortutlämning Vindeln")):
        _log_pilot(users[clerk_name], desks[desk_name], codes, region.id, rng, approver=evaluator)
    for area, title, likelihood, consequence, mitigation, owner in RISKS:
        settings.save_risk(evaluator, None, area=area, title=title, likelihood=likelihood, consequence=consequence,
                           mitigation=mitigation, owner=owner)
    for category, text in OBSERVATIONS:
        settings.add_observation(evaluator, category=category, text=text, desk_id=desks["Kortutlämning Lycksele"].id)


def _done_per_day(desk: Desk) -> dict[str, Counter[date]]:
    """What was recorded at the desk each Swedish day: hand-overs, orders placed, HSA acts."""
    def days(moments: list[datetime | None]) -> Counter[date]:
        return Counter(m.astimezone(LOCAL).date() for m in moments if m is not None)

    return {
        "handed_over": days(list(db.session.scalars(select(Order.handed_over_at).where(Order.desk_id == desk.id)))),
        "ordered": days(list(db.session.scalars(select(Order.created_at).where(Order.desk_id == desk.id)))),
        "hsa": days(list(db.session.scalars(select(HsaChange.at).where(HsaChange.desk_id == desk.id)
                                            .group_by(HsaChange.act, HsaChange.at)))),
    }


def _log_pilot(clerk: User, desk: Desk, codes: dict[str, int], region_id: int, rng: random.Random,
               approver: User) -> None:
    today = service.today()
    done = _done_per_day(desk)
    for period in db.session.scalars(select(PilotPeriod).where(PilotPeriod.desk_id == desk.id)):
        weeks = list(range(period.week_from, period.week_to + 1))
        for n, week in enumerate(weeks):
            monday = date.fromisocalendar(period.year, week, 1)
            if monday > today:
                break
            for day in (monday + timedelta(days=d) for d in OPEN_WEEKDAYS[desk.name]):
                if day >= today:
                    break
                clock = 8 * 60
                for code, per_person, counted, for_region in DAY_PLAN:
                    handled = done[counted][day] if counted in done else rng.randint(1, 3)
                    if not handled:
                        continue
                    spent = max(10, per_person * handled + rng.randint(-5, 10))
                    start, clock = clock, clock + spent
                    with acting_at(at(day, 16, 30)):  # logged at the end of the day
                        service.create_entry(clerk, EntryInput(
                            work_date=day, desk_id=desk.id, activity_id=codes[code],
                            organisation_id=region_id if for_region else desk.organisation_id,
                            start=f"{start // 60:02d}:{start % 60:02d}", end=f"{clock // 60:02d}:{clock % 60:02d}",
                            persons_handled=handled,
                            journeys_avoided=handled if code == "identity_handover" else 0))
            tuesday = monday + timedelta(days=1)
            with acting_at(at(tuesday, 16, 45)):
                for code, minutes in WEEKLY:
                    service.create_entry(clerk, EntryInput(
                        work_date=tuesday, desk_id=desk.id, activity_id=codes[code],
                        organisation_id=desk.organisation_id, duration=minutes, note="Veckomöte med projektet"
                        if code == "coordination" else ""))
            if n < len(weeks) - 1:  # the last week stays open: still being logged
                with acting_at(at(monday + timedelta(days=4), 17)):
                    sheet = sheets.submit(clerk, period.year, week)
                if n < len(weeks) - 2:  # the week before it waits for approval
                    with acting_at(at(monday + timedelta(days=7), 10)):
                        sheets.approve(approver, sheet.id)
