"""Demo data for the time log and the evaluation: a pilot's worth of entries, most weeks approved.

Made through the same services (and audit rows) as real work; called once from cardadmin/demo.py.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, User
from cardadmin.db import db
from cardadmin.evaluation import settings
from cardadmin.timelog import money, service, sheets
from cardadmin.timelog.service import EntryInput

# desk → (round-trip km to the regional desk, label, hourly rate, on-cost %)
SITES = {
    "Kortutlämning Lycksele": ("240", "Lycksele–Umeå", "385", "40.15"),
    "Kortutlämning Vindeln": ("110", "Vindeln–Umeå", "372", "40.15"),
}
PRICES = {"card": "150", "shipping": "45", "hsa_entry": "25", "certificate": "60"}  # demo prices, not Inera's
# (activity code, minutes, persons, share served for the region)
DAY_PLAN = [
    ("identity_handover", 90, 5, True),
    ("order_handling", 30, 4, True),
    ("hsa_entry", 25, 2, True),
    ("pin_puk_support", 20, 2, False),
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


def _log_pilot(clerk: User, desk: Desk, codes: dict[str, int], region_id: int, rng: random.Random,
               approver: User) -> None:
    today = service.today()
    for period in db.session.scalars(select(PilotPeriod).where(PilotPeriod.desk_id == desk.id)):
        weeks = list(range(period.week_from, period.week_to + 1))
        for n, week in enumerate(weeks):
            monday = date.fromisocalendar(period.year, week, 1)
            if monday > today:
                break
            for day in (monday + timedelta(days=d) for d in range(5) if desk.name.endswith("Lycksele") or d in (1, 3)):
                if day > today:
                    break
                clock = 8 * 60
                for code, minutes, persons, for_region in DAY_PLAN:
                    spent = max(10, minutes + rng.randint(-15, 20))
                    handled = max(1, persons + rng.randint(-2, 2))
                    start, clock = clock, clock + spent
                    service.create_entry(clerk, EntryInput(
                        work_date=day, desk_id=desk.id, activity_id=codes[code],
                        organisation_id=region_id if for_region else desk.organisation_id,
                        start=f"{start // 60:02d}:{start % 60:02d}", end=f"{clock // 60:02d}:{clock % 60:02d}",
                        persons_handled=handled,
                        journeys_avoided=handled if code == "identity_handover" else 0))
            for code, minutes in WEEKLY:
                service.create_entry(clerk, EntryInput(
                    work_date=monday + timedelta(days=1), desk_id=desk.id, activity_id=codes[code],
                    organisation_id=desk.organisation_id, duration=minutes, note="Veckomöte med projektet"
                    if code == "coordination" else ""))
            if n < len(weeks) - 1:  # the last week stays open: still being logged
                sheet = sheets.submit(clerk, period.year, week)
                if n < len(weeks) - 2:  # the week before it waits for approval
                    sheets.approve(approver, sheet.id)

