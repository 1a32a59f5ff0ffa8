"""Demo orders, dated inside the pilot weeks: the cards the pilot desks handed over, and twelve named card holders
with orders in every state. Made through the same services (and audit rows) as real work, each step at its own
moment (``db.acting_at``), so the dashboard, the evaluation pack and the time log tell one story: the time entries
(cardadmin/timelog/demo.py) count the hand-overs and orders recorded here, day by day."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from cardadmin.accounts.models import Desk, PilotPeriod, Unit, User
from cardadmin.db import acting_at, db, utcnow
from cardadmin.orders.models import Order
from cardadmin.timefmt import LOCAL

# The weekdays each pilot desk is open for card work (0 = Monday), as in the desks' opening hours.
OPEN_WEEKDAYS = {"Kortutlämning Lycksele": (0, 1, 2, 3, 4), "Kortutlämning Vindeln": (1, 3)}
# The units whose staff each pilot desk serves.
SERVED_UNITS = {"Kortutlämning Lycksele": ["SE2321000222-LL01", "SE2321000222-HCLY1", "SE2321000222-HCKB1"],
                "Kortutlämning Vindeln": ["SE2321000222-HCVI1"]}
CLERKS = {"Kortutlämning Lycksele": "handlaggare.lycksele", "Kortutlämning Vindeln": "handlaggare.vindeln"}
GIVEN = ["Maja", "Erik", "Sara", "Nils", "Linnea", "Oskar", "Tove", "Per", "Ebba", "Jonas", "Alma", "Olof"]
SURNAMES = ["Nordin", "Lindgren", "Westerlund", "Hedlund", "Sandström", "Öhman", "Marklund", "Burström"]

# (given name, surname, unit HSA-ID, desk, the state the demo leaves the order in)
PEOPLE = [
    ("Anna", "Andersson", "SE2321000222-LL01", "Kortutlämning Lycksele", "ordered"),
    ("Bertil", "Berg", "SE2321000222-HCLY1", "Kortutlämning Lycksele", "ordered"),
    ("Cecilia", "Carlsson", "SE2321000222-LL01", "Kortutlämning Lycksele", "approved"),
    ("David", "Dahl", "SE2321000222-HCKB1", "Kortutlämning Lycksele", "rejected"),
    ("Elin", "Ek", "SE2321000222-LL01", "Kortutlämning Lycksele", "cancelled"),
    ("Fredrik", "Falk", "SE2321000222-HCLY1", "Kortutlämning Lycksele", "in_production"),
    ("Greta", "Gran", "SE2321000222-LL01", "Kortutlämning Lycksele", "at_desk"),
    ("Hugo", "Holm", "SE2321000222-HCVI1", "Kortutlämning Vindeln", "at_desk"),
    ("Ingrid", "Isaksson", "SE2321000222-LL01", "Kortutlämning Lycksele", "handed_over"),
    ("Johan", "Jonsson", "SE2321000222-HCVI1", "Kortutlämning Vindeln", "active"),
    ("Karin", "Krok", "SE2321000222-HCKB1", "Kortutlämning Lycksele", "revoked"),
    ("Lars", "Lind", "SE2321000222-LL01", "Kortutlämning Lycksele", "expired"),
]
_PROGRESS = ["ordered", "approved", "in_production", "at_desk", "handed_over", "active"]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Swedish wall-clock moment (``minute`` may run past the hour)."""
    return datetime.combine(day, time(hour), tzinfo=LOCAL) + timedelta(minutes=minute)


def open_days(desk_name: str, period: PilotPeriod) -> list[date]:
    """The desk's open days in the pilot period that are already over."""
    today = utcnow().astimezone(LOCAL).date()
    return [day for week in range(period.week_from, period.week_to + 1)
            for weekday in OPEN_WEEKDAYS[desk_name]
            if (day := date.fromisocalendar(period.year, week, weekday + 1)) < today]


def load_demo_orders(users: dict[str, User], region_id: int, desks: dict[str, Desk]) -> None:
    units = {u.hsa_id: u for u in db.session.scalars(select(Unit))}
    rng = random.Random(43)  # the same demo every time
    serial = 0
    for desk_name, clerk_name in CLERKS.items():
        desk = desks[desk_name]
        for period in db.session.scalars(select(PilotPeriod).where(PilotPeriod.desk_id == desk.id)):
            first = date.fromisocalendar(period.year, period.week_from, 1)
            for day in open_days(desk_name, period):
                for k in range(rng.choice((1, 2, 2, 3))):
                    ordered_on = day - timedelta(days=rng.randint(3, 8))
                    if ordered_on < first:  # the desk served no one before its pilot began
                        continue
                    serial += 1
                    given, surname = rng.choice(GIVEN), rng.choice(SURNAMES)
                    unit = units[rng.choice(SERVED_UNITS[desk_name])]
                    _card_life(users, users[clerk_name], region_id, desk, unit, given, surname,
                               hsa_local=f"P{serial:04d}", card=f"97520000000100{serial:04d}", target="active",
                               moments=[at(ordered_on, 8, 15 + 5 * k), at(ordered_on, 13, 5 * k),
                                        at(day - timedelta(days=2), 9, 5 * k), at(day - timedelta(days=1), 14),
                                        at(day, 9, 30 + 25 * k), at(day, 9, 40 + 25 * k)])
    _named_orders(users, region_id, desks, units)


def _card_life(users: dict[str, User], clerk: User, region_id: int, desk: Desk, unit: Unit, given: str,
               surname: str, *, hsa_local: str, card: str, target: str, moments: list[datetime],
               expires_on: date | None = None) -> int:
    """A person and their order taken from 'ordered' to ``target``, step n at ``moments[n]``. Returns the order id."""
    from cardadmin.orders import service as orders
    from cardadmin.people import service as people

    with acting_at(moments[0]):
        person = people.create_person(users["admin"], people.PersonInput(
            hsa_id=f"SE2321000222-{hsa_local}", given_name=given, surname=surname, organisation_id=region_id,
            unit_id=unit.id, title="Sjuksköterska" if len(surname) % 2 else "Läkare",
            mail=f"{given.lower()}.{surname.lower()}.{hsa_local.lower()}@example.se"))
        order = orders.create_order(users["bestallare"], person_id=person.id, order_type="new", desk_id=desk.id)
    for step, moment in zip(_PROGRESS[1:_PROGRESS.index(target) + 1], moments[1:], strict=False):
        with acting_at(moment):
            if step == "approved":
                orders.approve(users["ra.region"], order.id)
            elif step == "in_production":
                orders.mark_in_production(clerk, order.id)
            elif step == "at_desk":
                orders.mark_at_desk(clerk, order.id, card,
                                    expires_on=expires_on or date.today() + timedelta(days=5 * 365))
            elif step == "handed_over":
                orders.hand_over(clerk, order.id, card, orders.IdentityInput(
                    method="document", document_type="driving_licence",
                    document_valid_until=date.today() + timedelta(days=900), document_number=f"88{card[-6:]}"))
            elif step == "active":
                orders.activate(clerk, order.id)
    return order.id


def _named_orders(users: dict[str, User], region_id: int, desks: dict[str, Desk], units: dict[str, Unit]) -> None:
    """Every order state, in each desk's last two pilot weeks: the cards handed over in the week before the last,
    what is still under way ordered on the last week's Monday (the pilots are over; those orders wait)."""
    from cardadmin.orders import cards
    from cardadmin.orders import service as orders

    for n, (given, surname, unit_hsa, desk_name, final) in enumerate(PEOPLE, start=1):
        desk = desks[desk_name]
        period = db.session.scalars(select(PilotPeriod).where(PilotPeriod.desk_id == desk.id)
                                    .order_by(PilotPeriod.year.desc(), PilotPeriod.week_to.desc())).first()
        assert period is not None
        done = final in ("handed_over", "active", "revoked", "expired")
        monday = date.fromisocalendar(period.year, period.week_to - (1 if done else 0), 1)
        # Vindeln is open Tuesdays and Thursdays: the card waits there from Tuesday and is handed over Thursday.
        moments = [at(monday, 8, 30 + n), at(monday, 11, n), at(monday + timedelta(days=1), 8, n),
                   at(monday + timedelta(days=1), 15, n), at(monday + timedelta(days=3), 10, n),
                   at(monday + timedelta(days=3), 10, 10 + n)]
        clerk = users[CLERKS[desk_name]]
        target = "active" if final in ("revoked", "expired") else final
        if final in ("rejected", "cancelled"):
            target = "ordered"
        order_id = _card_life(users, clerk, region_id, desk, units[unit_hsa], given, surname,
                              hsa_local=f"D{n:03d}", card=f"9752000000000000{n:04d}", target=target,
                              moments=moments)
        order = db.session.get(Order, order_id)
        assert order is not None
        with acting_at(moments[1]):
            if final == "rejected":
                orders.reject(users["ra.region"], order_id, "Anställningen börjar först nästa år; beställ närmare "
                                                            "startdatum.")
            elif final == "cancelled":
                orders.cancel(users["bestallare"], order_id, "Beställd två gånger.")
        if final == "revoked":
            with acting_at(at(monday + timedelta(days=4), 9)):
                cards.revoke_card(clerk, order.card_id, "lost", requested_by=f"{given} {surname}",
                                  comment="Tappade kortet på bussen.")
                orders.create_order(users["bestallare"], person_id=order.person_id, order_type="replacement_lost",
                                    desk_id=desk.id)
        elif final == "expired":
            # Years pass: the card meant to show "expired" ran out yesterday (a card past its date can be neither
            # registered nor handed over, so it is registered valid and its date moved here).
            assert order.card is not None
            order.card.expires_on = date.today() - timedelta(days=1)
            cards.expire_card(None, order.card_id)
        if final == "active":
            _demo_support_cases(clerk, order.card_id, monday + timedelta(days=3))


def _demo_support_cases(clerk: User, card_id: int | None, day: date) -> None:
    """One case solved at once at the desk, one still open (out of hours, by phone), on the hand-over day."""
    from cardadmin.orders import support

    with acting_at(at(day, 11)):
        support.open_support_case(clerk, support.SupportInput(
            kind="pin_puk", channel="desk", card_id=card_id, minutes_spent=15,
            description="PIN spärrad efter tre felaktiga försök.", resolution="Avspärrad med PUK, ny PIN vald."))
    with acting_at(at(day, 19, 30)):
        support.open_support_case(clerk, support.SupportInput(
            kind="question", channel="phone", out_of_hours=True, minutes_spent=10,
            description="Fråga om kortet fungerar i nya journalsystemet."))
