"""HSA screens: search, create/edit/remove a person entry, unit tree, history, billing report (screen, CSV, XLSX)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from cardadmin.db import db
from cardadmin.hsa import service
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.models import HsaChange
from cardadmin.hsa.rules import SystemActor
from cardadmin.hsa.service import UnitEntryInput
from cardadmin.people.models import Person
from tests.conftest import World


@pytest.fixture
def units(app: Any, world: World) -> dict[str, int]:
    with app.app_context():
        ctx = ChangeContext(SystemActor(), "import")
        lasarett, _ = service.create_unit_entry(ctx, UnitEntryInput("SE2321000222-LL01", "Lycksele lasarett"))
        avd, _ = service.create_unit_entry(ctx, UnitEntryInput("SE2321000222-AVD1", "Avdelning 1",
                                                               parent_id=lasarett.id))
        db.session.commit()
        return {"lasarett": lasarett.id, "avd": avd.id}


def _create(client: Any, world: World, units: dict[str, int], **extra: Any) -> Any:
    data = {"hsa_id": "SE2321000222-4KX7", "given_name": "Åsa", "surname": "Öberg", "title": "Läkare",
            "organisation_id": "", "unit_ids": [str(units["lasarett"])], "desk_id": str(world.desk_id)} | extra
    return client.post_form("/hsa/personer/ny", data)


def test_card_admin_creates_edits_and_removes_a_person_entry(app: Any, client: Any, world: World,
                                                             units: dict[str, int]) -> None:
    client.login("card_admin")
    response = _create(client, world, units)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.hsa_id == "SE2321000222-4KX7"))
        assert person.organisation_id == world.region_id and person.unit_id == units["lasarett"]
        person_id = person.id
    response = client.post_form(f"/hsa/personer/{person_id}/andra", {
        "hsa_id": "SE2321000222-4KX7", "given_name": "Åsa", "surname": "Åberg", "title": "Läkare",
        "organisation_id": "", "unit_ids": [str(units["avd"]), str(units["lasarett"])],
        "desk_id": str(world.desk_id)})
    assert response.status_code == 302
    page = client.get(f"/hsa/personer/{person_id}").get_data(as_text=True)
    assert "Åberg" in page and "Öberg" in page and "Ändringshistorik" in page and "huvudenhet" in page
    # One click only asks: the entry stays until the confirm step is posted.
    asked = client.post_form(f"/hsa/personer/{person_id}/ta-bort", {"desk_id": str(world.desk_id)})
    assert asked.status_code == 200 and "kan inte ångras" in asked.get_data(as_text=True)
    assert 'name="confirm" type="hidden" value="1"' in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Person, person_id).removed_at is None
        assert db.session.scalars(select(HsaChange).where(HsaChange.action == "removed")).all() == []
    removed = client.post_form(f"/hsa/personer/{person_id}/ta-bort", {"desk_id": str(world.desk_id), "confirm": "1"})
    assert removed.status_code == 302
    page = client.get(f"/hsa/personer/{person_id}").get_data(as_text=True)
    assert "Posten togs bort" in page
    with app.app_context():
        rows = db.session.scalars(select(HsaChange).where(HsaChange.entry_type == "person",
                                                         HsaChange.entry_id == person_id)).all()
        assert {r.action for r in rows} == {"created", "changed", "removed"}
        assert {r.desk_id for r in rows} == {world.desk_id} and {r.source for r in rows} == {"web"}


def test_bad_input_shows_the_reason_and_saves_nothing(app: Any, client: Any, world: World,
                                                      units: dict[str, int]) -> None:
    client.login("card_admin")
    response = _create(client, world, units, hsa_id="SE2321000223-4KX7")
    assert response.status_code == 400 and "kontrollsiffra" in response.get_data(as_text=True)
    response = _create(client, world, units, hsa_id="SE2321000222-LL01")  # a unit's HSA-ID
    assert response.status_code == 409 and "används redan av en enhet" in response.get_data(as_text=True)
    response = _create(client, world, units, desk_id=str(world.other_desk_id))  # not the clerk's desk
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Person.id)) is None


def test_unknown_organisation_part_is_a_warning(client: Any, world: World, units: dict[str, int]) -> None:
    client.login("admin")
    response = _create(client, world, units, hsa_id="SE5560000001-X1", organisation_id=str(world.region_id),
                       desk_id="")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "hör inte till någon känd organisation" in page


def test_search_by_name_hsa_id_and_unit_and_the_unit_tree(client: Any, world: World, units: dict[str, int]) -> None:
    client.login("admin")
    _create(client, world, units)
    _create(client, world, units, hsa_id="SE2321000222-B2", given_name="Bertil", surname="Berg",
            unit_ids=[str(units["avd"])])
    client.get("/hsa/")  # shows (and so clears) the flashed confirmations
    by_name = client.get("/hsa/?q=Åsa").get_data(as_text=True)
    assert "SE2321000222-4KX7" in by_name and "SE2321000222-B2" not in by_name
    by_unit = client.get(f"/hsa/?enhet={units['avd']}").get_data(as_text=True)
    assert "SE2321000222-B2" in by_unit and "SE2321000222-4KX7" not in by_unit
    units_found = client.get("/hsa/?q=SE2321000222-LL").get_data(as_text=True)
    assert "Lycksele lasarett" in units_found
    tree = client.get("/hsa/enheter").get_data(as_text=True)
    assert tree.index("Lycksele lasarett") < tree.index("— <a") < tree.index("Avdelning 1")


def test_billing_report_on_screen_csv_and_xlsx(client: Any, world: World, units: dict[str, int]) -> None:
    client.login("card_admin")
    _create(client, world, units)
    client.login("evaluator")
    page = client.get("/hsa/rapport").get_data(as_text=True)
    assert "Region Västerbotten" in page
    csv_text = client.get("/hsa/rapport.csv").get_data().decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("Organisation;Organisationsnummer;Period")
    # Units made by the fixture (two acts) and one person, all for the region this month.
    assert any(line.startswith("Region Västerbotten;232100-0222;") and line.endswith(";3;0;0") for line in lines)
    response = client.get("/hsa/rapport.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("sheet")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Organisation" and rows[1][0] == "Region Västerbotten" and rows[1][4] == 3


def test_ra_officer_sees_only_own_organisation(client: Any, world: World, units: dict[str, int]) -> None:
    client.login("admin")
    _create(client, world, units, hsa_id="SE2120002650-K1", organisation_id=str(world.municipality_id),
            unit_ids=[], desk_id="")
    client.login("ra_officer")  # the region's RA officer
    assert "SE2120002650-K1" not in client.get("/hsa/?q=SE2120002650").get_data(as_text=True)
    assert "Lycksele kommun" not in client.get("/hsa/rapport").get_data(as_text=True)
    client.login("ra_kommun")
    assert "SE2120002650-K1" in client.get("/hsa/?q=SE2120002650").get_data(as_text=True)
    assert client.get("/hsa/import").status_code == 403


def test_demo_data_fills_the_billing_report_per_month_and_pilot(app: Any) -> None:
    from cardadmin import demo
    from cardadmin.hsa import report

    with app.app_context():
        assert demo.load_demo_data()
        db.session.commit()
        from cardadmin.security import find_user

        rows = report.billing_rows(find_user("utvarderare"))
        pilots = {r.period.split(" (")[0]: r for r in rows if r.period_kind == "pilot"}
        assert (pilots["Pilot Lycksele"].created, pilots["Pilot Lycksele"].changed,
                pilots["Pilot Lycksele"].removed) == (3, 1, 1)
        assert pilots["Pilot Vindeln"].created == 2
        assert sum(r.changed for r in rows if r.period_kind == "månad") == 2


def test_units_saved_on_the_admin_pages_are_in_the_change_log(app: Any, client: Any, world: World) -> None:
    client.login("admin")
    response = client.post_form(f"/admin/organisationer/{world.region_id}/enheter/ny", {
        "name": "Hälsocentralen i Vindeln", "hsa_id": "SE2321000222-HCVI1", "parent_id": "", "town": "Vindeln"})
    assert response.status_code == 302
    with app.app_context():
        change = db.session.scalar(select(HsaChange).where(HsaChange.hsa_id == "SE2321000222-HCVI1"))
        assert (change.action, change.entry_type, change.actor_name) == ("created", "unit", "admin")


def test_removal_refused_on_the_page_with_the_reason(app: Any, client: Any, world: World,
                                                    units: dict[str, int]) -> None:
    from cardadmin.orders.models import Card

    client.login("card_admin")
    response = _create(client, world, units)
    person_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        db.session.add(Card(card_number="9752000000000042", person_id=person_id, organisation_id=world.region_id,
                            desk_id=world.desk_id, status="handed_over"))
        db.session.commit()
    response = client.post_form(f"/hsa/personer/{person_id}/ta-bort", {"desk_id": str(world.desk_id),
                                                                       "confirm": "1"})
    assert response.status_code == 409 and "Spärra kortet" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Person, person_id).removed_at is None


def test_protected_identity_is_not_listed_by_unit_nor_exported(app: Any, client: Any, world: World,
                                                                units: dict[str, int]) -> None:
    client.login("admin")
    response = _create(client, world, units, desk_id="")
    person_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        db.session.get(Person, person_id).protected_identity = True
        db.session.commit()
    client.get("/hsa/")
    assert "SE2321000222-4KX7" not in client.get(f"/hsa/?enhet={units['lasarett']}").get_data(as_text=True)
    assert "SE2321000222-4KX7" not in client.get("/hsa/?q=Åsa").get_data(as_text=True)
    assert "SE2321000222-4KX7" in client.get("/hsa/?q=SE2321000222-4KX7").get_data(as_text=True)
    exported = client.get("/hsa/export.csv").get_data(as_text=True)
    assert "SE2321000222-LL01" in exported and "SE2321000222-4KX7" not in exported


def test_a_card_administrator_cannot_leave_out_the_desk(app: Any, client: Any, world: World,
                                                        units: dict[str, int]) -> None:
    """The form offers no 'none' to a card administrator; a post without a desk is refused, not recorded."""
    client.login("card_admin")
    assert "— ingen —" not in client.get("/hsa/personer/ny").get_data(as_text=True)
    response = _create(client, world, units, desk_id="")
    assert response.status_code == 400 and "kortutlämning" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Person.id)) is None
