"""Demo data: Region Västerbotten and the two pilot municipalities, their units, desks and one user per role."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import func, select

from cardadmin.accounts import service
from cardadmin.accounts.models import Desk, Unit, User
from cardadmin.db import db
from cardadmin.errors import Forbidden
from cardadmin.roles import Role

DEMO_PASSWORD = "Demo-2026-kort"  # noqa: S105 (demo only; demo data is refused in production)

ORGANISATIONS = [
    ("Region Västerbotten", "232100-0222", "region"),
    ("Lycksele kommun", "212000-2650", "municipality"),
    ("Vindelns kommun", "212000-2577", "municipality"),
]
# (organisation, unit name, HSA-ID, town)
UNITS = [
    ("Region Västerbotten", "Lycksele lasarett", "SE2321000222-LL01", "Lycksele"),
    ("Region Västerbotten", "Hälsocentralen i Lycksele", "SE2321000222-HCLY1", "Lycksele"),
    ("Region Västerbotten", "Hälsocentralen Kristineberg", "SE2321000222-HCKB1", "Kristineberg"),
    ("Region Västerbotten", "Hälsocentralen i Vindeln", "SE2321000222-HCVI1", "Vindeln"),
    ("Lycksele kommun", "Vård och omsorg Lycksele", "SE2120002650-VO01", "Lycksele"),
    ("Vindelns kommun", "Vård och omsorg Vindeln", "SE2120002577-VO01", "Vindeln"),
]
# (desk name, town, organisation, regional, opening hours)
DESKS = [
    ("Kortutlämning Lycksele", "Lycksele", "Lycksele kommun", False, "Mån–fre 08–16, tors 08–18"),
    ("Kortutlämning Vindeln", "Vindeln", "Vindelns kommun", False, "Tis och tors 08–15"),
    ("Regionala kortutlämningen Umeå", "Umeå", "Region Västerbotten", True, "Mån–fre 08–16"),
]
# (username, name, roles, employer, desks)
USERS = [
    ("admin", "Alva Admin", [Role.ADMIN], "Region Västerbotten", []),
    ("bestallare", "Bo Beställare", [Role.ORDERER], "Region Västerbotten", []),
    ("ra.region", "Rut RA-Region", [Role.RA_OFFICER], "Region Västerbotten", []),
    ("ra.lycksele", "Rolf RA-Lycksele", [Role.RA_OFFICER], "Lycksele kommun", []),
    ("handlaggare.lycksele", "Karin Korthandläggare", [Role.CARD_ADMIN], "Lycksele kommun", ["Kortutlämning Lycksele"]),
    ("handlaggare.vindeln", "Viktor Korthandläggare", [Role.CARD_ADMIN], "Vindelns kommun", ["Kortutlämning Vindeln"]),
    ("utvarderare", "Eva Utvärderare", [Role.EVALUATOR], "Region Västerbotten", []),
]


def demo_year(today: date | None = None) -> int:
    """The latest year whose pilots (ending V.45) are over, so the demo shows finished pilots."""
    today = today or date.today()
    return today.year if today.isocalendar().week > 45 else today.year - 1


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def load_demo_data() -> bool:
    """Fill an empty database; return False (and change nothing) if it already has users."""
    if current_app.config["CARDADMIN_ENV"] == "production":
        raise Forbidden("Demodata läggs aldrig in i produktion.")
    if not database_is_empty():
        return False
    # The first admin is created by the system; everything after it is done by that admin, as in real use.
    org_numbers = {name: number for name, number, _kind in ORGANISATIONS}
    bootstrap = service.UserInput(username="admin", full_name="Alva Admin", roles=[Role.ADMIN])
    admin = service.create_user(None, bootstrap, DEMO_PASSWORD)
    orgs = {
        name: service.save_organisation(admin, None, name=name, org_number=org_numbers[name], kind=kind)
        for name, _number, kind in ORGANISATIONS
    }
    service.update_user(admin, admin, service.UserInput(
        username="admin", full_name="Alva Admin", roles=[Role.ADMIN], organisation_id=orgs["Region Västerbotten"].id,
        email="admin@example.se",
    ))
    for org_name, name, hsa_id, town in UNITS:
        service.save_unit(admin, None, name=name, hsa_id=hsa_id, organisation_id=orgs[org_name].id,
                          parent_id=None, town=town)
    desks = {}
    for name, town, org_name, regional, hours in DESKS:
        desks[name] = service.save_desk(admin, None, name=name, town=town, organisation_id=orgs[org_name].id,
                                        is_regional=regional, opening_hours=hours)
    year = demo_year()
    service.save_pilot_period(admin, None, desk_id=desks["Kortutlämning Lycksele"].id, name="Pilot Lycksele",
                              year=year, week_from=37, week_to=43)
    service.save_pilot_period(admin, None, desk_id=desks["Kortutlämning Vindeln"].id, name="Pilot Vindeln",
                              year=year, week_from=39, week_to=45)
    users = {"admin": admin}
    for username, full_name, roles, employer, desk_names in USERS:
        if username == "admin":
            continue
        users[username] = service.create_user(admin, service.UserInput(
            username=username, full_name=full_name, roles=roles, organisation_id=orgs[employer].id,
            desk_ids=[desks[d].id for d in desk_names], email=f"{username}@example.se",
        ), DEMO_PASSWORD)
    _demo_orders(users, orgs["Region Västerbotten"].id, desks)
    from cardadmin.hsa.demo import load_demo_hsa
    from cardadmin.timelog.demo import add_demo_time

    load_demo_hsa(users, desks, year)
    add_demo_time(users)
    db.session.flush()
    return True


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


def _demo_orders(users: dict[str, User], region_id: int, desks: dict[str, Desk]) -> None:
    """Orders in every state, made through the same services (and audit rows) as real work."""
    from datetime import timedelta

    from cardadmin.orders import cards
    from cardadmin.orders import service as orders
    from cardadmin.people import service as people

    units = {u.hsa_id: u for u in db.session.scalars(select(Unit))}
    desk_admin = {"Kortutlämning Lycksele": users["handlaggare.lycksele"],
                  "Kortutlämning Vindeln": users["handlaggare.vindeln"]}
    orderer, ra = users["bestallare"], users["ra.region"]
    for n, (given, surname, unit_hsa, desk_name, final) in enumerate(PEOPLE, start=1):
        person = people.create_person(users["admin"], people.PersonInput(
            hsa_id=f"SE2321000222-D{n:03d}", given_name=given, surname=surname, organisation_id=region_id,
            unit_id=units[unit_hsa].id, title="Sjuksköterska" if n % 2 else "Läkare",
            mail=f"{given.lower()}.{surname.lower()}@example.se",
        ))
        order = orders.create_order(orderer, person_id=person.id, order_type="new", desk_id=desks[desk_name].id)
        if final == "rejected":
            orders.reject(ra, order.id, "Anställningen börjar först nästa år; beställ närmare startdatum.")
            continue
        if final == "cancelled":
            orders.cancel(orderer, order.id, "Beställd två gånger.")
            continue
        clerk = desk_admin[desk_name]
        target = "active" if final in ("revoked", "expired") else final
        for step in _PROGRESS[1:_PROGRESS.index(target) + 1]:
            if step == "approved":
                orders.approve(ra, order.id)
            elif step == "in_production":
                orders.mark_in_production(clerk, order.id)
            elif step == "at_desk":
                orders.mark_at_desk(clerk, order.id, f"9752000000000000{n:04d}",
                                    expires_on=date.today() + timedelta(days=5 * 365))
            elif step == "handed_over":
                orders.hand_over(clerk, order.id, f"9752000000000000{n:04d}", orders.IdentityInput(
                    method="document", document_type="driving_licence",
                    document_valid_until=date.today() + timedelta(days=900), document_number=f"8812{n:04d}"))
            elif step == "active":
                orders.activate(clerk, order.id)
        if final == "revoked":
            cards.revoke_card(clerk, order.card_id, "lost", requested_by=f"{given} {surname}",
                              comment="Tappade kortet på bussen.")
            orders.create_order(orderer, person_id=person.id, order_type="replacement_lost",
                                desk_id=desks[desk_name].id)
        elif final == "expired":
            # Years pass: the card meant to show "expired" ran out yesterday (a card past its date can be neither
            # registered nor handed over).
            assert order.card is not None
            order.card.expires_on = date.today() - timedelta(days=1)
            cards.expire_card(None, order.card_id)
        if final == "active":
            _demo_support_cases(clerk, order.card_id)


def _demo_support_cases(clerk: User, card_id: int | None) -> None:
    """One case solved at once, one still open (out of hours, by phone)."""
    from cardadmin.orders import support

    support.open_support_case(clerk, support.SupportInput(
        kind="pin_puk", channel="desk", card_id=card_id, minutes_spent=15,
        description="PIN spärrad efter tre felaktiga försök.", resolution="Avspärrad med PUK, ny PIN vald."))
    support.open_support_case(clerk, support.SupportInput(
        kind="question", channel="phone", out_of_hours=True, minutes_spent=10,
        description="Fråga om kortet fungerar i nya journalsystemet."))


def login_help() -> str:
    lines = ["Demoinloggningar (lösenord för alla: " + DEMO_PASSWORD + "):"]
    for username, _name, roles, employer, _desks in USERS:
        lines.append(f"  {username:<22} {', '.join(r.label for r in roles):<28} {employer}")
    return "\n".join(lines)
