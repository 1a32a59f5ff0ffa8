"""A card recipient registered by an orderer ('Ny kortmottagare') is a created HSA entry like any other: in the
HSA change log (who, for which organisation, at which desk) and in the billing report (UX review: the report's
'Skapade' counted only entries made under HSA-poster)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cardadmin.db import db
from cardadmin.hsa import report
from cardadmin.hsa.models import HsaChange
from cardadmin.people.models import Person
from tests.conftest import World
from tests.test_people import PNR, user


def _created(hsa_id: str) -> list[HsaChange]:
    db.session.expire_all()
    return list(db.session.scalars(select(HsaChange).where(HsaChange.hsa_id == hsa_id)))


def test_orderers_new_recipient_is_logged_and_billed(app: Any, client: Any, world: World) -> None:
    client.login("orderer")
    response = client.post_form("/personer/ny?till=bestallning", {
        "hsa_id": "SE2321000222-NY1", "given_name": "Nils", "surname": "Nyman", "organisation_id": world.region_id,
        "personnummer": PNR, "protected_identity": "y"})
    assert response.status_code == 302 and "/bestallningar/ny?person_id=" in response.headers["Location"]
    with app.app_context():
        (row,) = _created("SE2321000222-NY1")
        assert (row.action, row.entry_type, row.actor_name, row.organisation_id, row.source, row.desk_id) == (
            "created", "person", "orderer", world.region_id, "web", None)
        person = db.session.scalar(select(Person).where(Person.hsa_id == "SE2321000222-NY1"))
        assert person.protected_identity and person._personnummer == PNR.replace("-", "")
        (billed,) = [r for r in report.billing_rows(user(world, "evaluator")) if r.period_kind == "månad"]
        assert (billed.organisation, billed.created) == ("Region Västerbotten", 1)


def test_orderer_creates_only_for_own_organisation_and_never_changes_entries(app: Any, client: Any,
                                                                             world: World) -> None:
    client.login("orderer")
    other = client.post_form("/personer/ny", {"hsa_id": "SE2120002650-NY2", "given_name": "Kim", "surname": "Kom",
                                              "organisation_id": world.municipality_id})
    assert other.status_code in (400, 403)
    assert client.get("/hsa/personer/ny").status_code == 403  # the HSA pages stay with the writers
    with app.app_context():
        assert _created("SE2120002650-NY2") == []
        assert db.session.scalar(select(Person).where(Person.hsa_id == "SE2120002650-NY2")) is None


def test_card_admins_new_recipient_is_billed_to_their_desk(app: Any, client: Any, world: World) -> None:
    client.login("card_admin")
    page = client.get("/personer/ny").get_data(as_text=True)
    assert "Arbetar vid kortutlämning" in page and "— ingen —" not in page.split('name="desk_id"')[1][:300]
    response = client.post_form("/personer/ny", {
        "hsa_id": "SE2321000222-NY3", "given_name": "Ada", "surname": "Ek", "organisation_id": world.region_id,
        "desk_id": str(world.desk_id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        (row,) = _created("SE2321000222-NY3")
        assert (row.actor_name, row.desk_id) == ("card_admin", world.desk_id)
