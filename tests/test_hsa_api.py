"""HSA entries under /api/v1/hsa: the same services, scopes, change log and errors as the screens."""

from __future__ import annotations

from typing import Any

import pytest

from cardadmin.accounts import service as accounts
from cardadmin.db import db
from cardadmin.hsa import service
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.rules import SystemActor
from cardadmin.hsa.service import UnitEntryInput
from tests.conftest import World


@pytest.fixture
def api(app: Any, world: World) -> Any:
    with app.app_context():
        tokens = {}
        for name in ("card_admin", "ra_officer", "evaluator"):
            _row, tokens[name] = accounts.create_api_token(db.session.merge(world.users[name]), "t")
        unit, _ = service.create_unit_entry(ChangeContext(SystemActor(), "import"),
                                            UnitEntryInput("SE2321000222-LL01", "Lycksele lasarett"))
        db.session.commit()
        unit_id = unit.id
    client = app.test_client()

    def call(method: str, path: str, who: str = "card_admin", **kwargs: Any) -> Any:
        return client.open(f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {tokens[who]}"},
                           **kwargs)

    call.unit_id = unit_id  # type: ignore[attr-defined]
    return call


def test_create_change_remove_and_history(api: Any, world: World) -> None:
    body = {"hsa_id": "SE2321000222-4KX7", "given_name": "Åsa", "surname": "Öberg", "unit_ids": [api.unit_id],
            "desk_id": world.desk_id}
    created = api("POST", "/hsa/persons", json=body)
    assert created.status_code == 201, created.json
    person = created.json
    assert person["organisation_id"] == world.region_id and person["unit_ids"] == [api.unit_id]
    assert person["warnings"] == []
    changed = api("PUT", f"/hsa/persons/{person['id']}", json=body | {"surname": "Åberg", "start_date": "2026-09-01"})
    assert changed.status_code == 200 and changed.json["surname"] == "Åberg"
    found = api("GET", "/hsa/persons?q=Åberg").json["items"]
    assert [p["hsa_id"] for p in found] == ["SE2321000222-4KX7"]
    assert api("DELETE", f"/hsa/persons/{person['id']}?desk_id={world.desk_id}").status_code == 200
    history = api("GET", f"/hsa/persons/{person['id']}/changes").json["items"]
    assert [(c["action"], c["attribute"]) for c in history] == [
        ("created", None), ("changed", "sn"), ("changed", "startDate"), ("removed", None)]
    assert {c["source"] for c in history} == {"api"} and {c["desk_id"] for c in history} == {world.desk_id}
    billing = api("GET", "/hsa/billing", who="evaluator").json["items"]
    assert any(r["organisation"] == "Region Västerbotten" and r["created"] == 2 and r["removed"] == 1
               for r in billing)


def test_errors_are_json_and_nothing_is_half_done(api: Any, world: World) -> None:
    desk = {"desk_id": world.desk_id}
    bad = api("POST", "/hsa/persons", json={"hsa_id": "SE2321000223-1", "given_name": "A", "surname": "B"} | desk)
    assert bad.status_code == 400 and "kontrollsiffra" in bad.json["error"]["message"]
    taken = api("POST", "/hsa/persons", json={"hsa_id": "SE2321000222-LL01", "given_name": "A", "surname": "B"}
                | desk)
    assert taken.status_code == 409 and "enhet" in taken.json["error"]["message"]
    wrong = api("POST", "/hsa/persons", json={"hsa_id": "SE2321000222-1", "given_name": "A", "surname": "B",
                                              "unit_ids": "nope"} | desk)
    assert wrong.status_code == 400
    assert api("GET", "/hsa/persons").json["items"] == []
    assert api("GET", "/hsa/billing").status_code == 403  # card_admin: desk work, not reports
    assert api("GET", "/hsa/persons", who="evaluator").status_code == 403


def test_units_and_scope(api: Any, world: World) -> None:
    assert [u["hsa_id"] for u in api("GET", "/hsa/units?q=Lycksele").json["items"]] == ["SE2321000222-LL01"]
    kommun = api("POST", "/hsa/persons", json={"hsa_id": "SE2120002650-K1", "given_name": "A", "surname": "B",
                                               "desk_id": world.desk_id})
    assert kommun.status_code == 201  # the card administrator's desk organisation
    refused = api("GET", f"/hsa/persons/{kommun.json['id']}", who="ra_officer")  # the region's RA officer
    assert refused.status_code == 404


def test_openapi_lists_the_hsa_routes(app: Any) -> None:
    paths = app.test_client().get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/hsa/persons"]) and {"get", "put", "delete"} <= set(
        paths["/api/v1/hsa/persons/{person_id}"])


def test_a_card_administrator_names_their_desk_on_every_change(api: Any, world: World) -> None:
    """The form requires the desk a card administrator works at (the change log bills it); the API too."""
    body = {"hsa_id": "SE2321000222-4KX7", "given_name": "Åsa", "surname": "Öberg"}
    refused = api("POST", "/hsa/persons", json=body)
    assert refused.status_code == 400 and "kortutlämning" in refused.json["error"]["message"]
    assert api("GET", "/hsa/persons?q=Öberg").json["items"] == []
    person = api("POST", "/hsa/persons", json=body | {"desk_id": world.desk_id}).json
    assert api("PUT", f"/hsa/persons/{person['id']}", json=body | {"surname": "Åberg"}).status_code == 400
    assert api("DELETE", f"/hsa/persons/{person['id']}").status_code == 400
    history = api("GET", f"/hsa/persons/{person['id']}/changes").json["items"]
    assert [(c["action"], c["desk_id"]) for c in history] == [("created", world.desk_id)]
