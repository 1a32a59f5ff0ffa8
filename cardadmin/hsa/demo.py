"""Demo HSA work: entries created, changed and removed at the pilot desks during their pilot weeks (and one this
month), through the same services, so the billing report and change histories have something to show."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select

from cardadmin.accounts.models import Desk, Unit
from cardadmin.db import acting_at, db
from cardadmin.hsa import service
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.service import PersonEntryInput

# (desk, clerk, ISO week in the pilot year, HSA-ID local part, given name, surname, unit HSA-ID)
CREATED = [
    ("Kortutlämning Lycksele", "handlaggare.lycksele", 38, "H001", "Märta", "Åström", "SE2321000222-LL01"),
    ("Kortutlämning Lycksele", "handlaggare.lycksele", 39, "H002", "Östen", "Ärlebäck", "SE2321000222-HCLY1"),
    ("Kortutlämning Lycksele", "handlaggare.lycksele", 41, "H003", "Signe", "Lundqvist", "SE2321000222-HCKB1"),
    ("Kortutlämning Vindeln", "handlaggare.vindeln", 40, "H004", "Göran", "Nyström", "SE2321000222-HCVI1"),
    ("Kortutlämning Vindeln", "handlaggare.vindeln", 44, "H005", "Ylva", "Sjöberg", "SE2321000222-HCVI1"),
]


def _at(year: int, week: int) -> datetime:
    return datetime.combine(date.fromisocalendar(year, week, 3), time(10, 0), tzinfo=UTC)


def load_demo_hsa(users: dict[str, Any], desks: dict[str, Desk], year: int) -> None:
    units = {u.hsa_id: u.id for u in db.session.scalars(select(Unit))}
    made = {}
    for desk, clerk, week, local, given, surname, unit in CREATED:
        with acting_at(_at(year, week)):  # the audit rows too, not only the change log
            ctx = ChangeContext(users[clerk], "demo", desk_id=desks[desk].id)
            made[local], _ = service.create_person_entry(ctx, PersonEntryInput(
                hsa_id=f"SE2321000222-{local}", given_name=given, surname=surname, title="Undersköterska",
                unit_ids=[units[unit]]))
    lycksele = users["handlaggare.lycksele"]
    with acting_at(_at(year, 42)):
        ctx = ChangeContext(lycksele, "demo", desk_id=desks["Kortutlämning Lycksele"].id)
        service.update_person_entry(ctx, made["H002"].id, PersonEntryInput(
            hsa_id="SE2321000222-H002", given_name="Östen", surname="Ärlebäck", title="Sjuksköterska",
            mail="osten.arleback@example.se", unit_ids=[units["SE2321000222-HCLY1"], units["SE2321000222-LL01"]]))
        service.remove_person_entry(ctx, made["H003"].id)
    # And one this month, by the region's RA officer (no desk): the report's current month is not empty either.
    service.update_person_entry(ChangeContext(users["ra.region"], "demo"), made["H001"].id, PersonEntryInput(
        hsa_id="SE2321000222-H001", given_name="Märta", surname="Åström", title="Barnmorska",
        unit_ids=[units["SE2321000222-LL01"]]))
