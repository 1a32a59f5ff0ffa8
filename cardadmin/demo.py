"""Demo data: Region Västerbotten and the two pilot municipalities, their units, desks and one user per role."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import func, select

from cardadmin.accounts import service
from cardadmin.accounts.models import User
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
    from cardadmin.demo_orders import load_demo_orders

    load_demo_orders(users, orgs["Region Västerbotten"].id, desks)
    from cardadmin.hsa.demo import load_demo_hsa
    from cardadmin.timelog.demo import add_demo_time

    load_demo_hsa(users, desks, year)
    add_demo_time(users)
    db.session.flush()
    return True


def login_help() -> str:
    lines = ["Demoinloggningar (lösenord för alla: " + DEMO_PASSWORD + "):"]
    for username, _name, roles, employer, _desks in USERS:
        lines.append(f"  {username:<22} {', '.join(r.label for r in roles):<28} {employer}")
    return "\n".join(lines)
