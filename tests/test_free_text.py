"""Free text a user types, stores and later sees or exports never holds a personal identity number: every service
that takes such text refuses one with the same Swedish message (one rule: validation.free_text)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from cardadmin.accounts import service as accounts
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.evaluation import settings
from cardadmin.orders import cards, service, support
from cardadmin.orders.models import SupportCase
from cardadmin.orders.states import Status
from cardadmin.people.service import PersonInput, create_person
from cardadmin.timelog import service as timelog
from cardadmin.timelog import sheets
from cardadmin.validation import free_text
from tests.conftest import World
from tests.test_orders_service import order_for, to_status
from tests.test_people import user
from tests.timelog_fixtures import build_pilot, entry

# The UX review's text: a 12-digit and a 10-digit form of the same (valid, Luhn-checked) test number.
TEXT = "Tolvan 19121212-1212 och 121212-1212 ringde"
REFUSED = "Skriv inte personnummer"


@pytest.mark.parametrize("text", [TEXT, "ring 121212-1212", "191212121212 ringde", "19121212 1212"])
def test_free_text_refuses_a_personnummer(text: str) -> None:
    with pytest.raises(InvalidInput, match=f"{REFUSED} i beskrivningen"):
        free_text(text, "Beskrivning", where="beskrivningen", max_length=100)


@pytest.mark.parametrize("text", ["Kort 9752000000077 spärrat", "Org 232100-0222", "Ring 090-123 45 67", "PIN x3"])
def test_free_text_keeps_other_numbers(text: str) -> None:
    assert free_text(text, "Beskrivning", where="beskrivningen", max_length=100) == text


def test_support_form_refuses_the_number_and_stores_nothing(app: Any, client: Any, world: World) -> None:
    client.login("card_admin")
    response = client.post_form("/support/nytt", {"kind": "question", "channel": "phone", "desk_id": "",
                                                 "minutes_spent": "5", "description": TEXT})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Skriv inte personnummer i beskrivningen." in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SupportCase)) == 0


def test_support_api_refuses_the_number(app: Any, client: Any, world: World) -> None:
    with app.app_context():
        token = accounts.create_api_token(world.users["card_admin"], "test")[1]
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    opened = client.post("/api/v1/support-cases", headers=headers,
                         json={"kind": "question", "channel": "phone", "description": TEXT})
    assert opened.status_code == 400
    assert opened.json["error"]["message"] == "Skriv inte personnummer i beskrivningen."
    opened = client.post("/api/v1/support-cases", headers=headers,
                         json={"kind": "question", "channel": "phone", "description": "Fråga om PIN"})
    assert opened.status_code == 201
    resolved = client.post(f"/api/v1/support-cases/{opened.json['id']}/resolve", headers=headers,
                           json={"resolution": "Ringde 121212-1212 tillbaka"})
    assert resolved.status_code == 400
    assert resolved.json["error"]["message"] == "Skriv inte personnummer i åtgärden."


def _order(w: World) -> Any:
    return order_for(w)


CASES: list[tuple[str, Callable[[World], Any]]] = [
    ("kommentaren", lambda w: service.create_order(
        user(w, "orderer"), person_id=_person(w).id, order_type="new", desk_id=w.desk_id, comment=TEXT)),
    ("skälet", lambda w: service.cancel(user(w, "orderer"), _order(w).id, TEXT)),
    ("skälet för avslaget", lambda w: service.reject(user(w, "ra_officer"), _order(w).id, TEXT)),
    ("fältet Vem begärde spärren", lambda w: cards.revoke_card(
        user(w, "ra_officer"), _card(w), "lost", TEXT)),
    ("kommentaren", lambda w: cards.revoke_card(user(w, "ra_officer"), _card(w), "lost", "Anna", TEXT)),
    ("beskrivningen", lambda w: support.open_support_case(
        user(w, "card_admin"), support.SupportInput("question", "phone", description=TEXT))),
    ("åtgärden", lambda w: support.open_support_case(
        user(w, "card_admin"), support.SupportInput("question", "phone", description="Fråga", resolution=TEXT))),
    ("åtgärden", lambda w: support.resolve_support_case(user(w, "card_admin"), _case(w), TEXT)),
    ("titeln", lambda w: create_person(user(w, "admin"), PersonInput(
        hsa_id="SE2321000222-T1", organisation_id=w.region_id, given_name="Tolvan", surname="Tolvansson",
        title=TEXT))),
    ("iakttagelsen", lambda w: settings.add_observation(
        user(w, "card_admin"), category="service", text=TEXT, desk_id=None)),
    ("åtgärden", lambda w: settings.save_risk(
        user(w, "evaluator"), None, area="resources", title="Få handläggare", likelihood=2, consequence=2,
        mitigation=TEXT)),
    ("motiveringen", lambda w: sheets.reopen(user(w, "evaluator"), _submitted_sheet(w), TEXT + " igen")),
    ("anteckningen", lambda w: timelog.create_entry(user(w, "card_admin"), entry(build_pilot(w), note=TEXT))),
]


def _person(w: World) -> Any:
    from tests.test_people import add_person
    return add_person(w, "FT")


def _card(w: World) -> int:
    order = to_status(w, order_for(w), Status.ACTIVE)
    assert order.card_id is not None
    return order.card_id


def _case(w: World) -> int:
    case = support.open_support_case(user(w, "card_admin"), support.SupportInput("question", "phone",
                                                                                 description="Fråga"))
    db.session.commit()
    return case.id


def _submitted_sheet(w: World) -> int:
    pilot = build_pilot(w)
    timelog.create_entry(user(w, "card_admin"), entry(pilot))
    sheet = sheets.submit(user(w, "card_admin"), 2026, 37)
    db.session.commit()
    return sheet.id


@pytest.mark.parametrize(("where", "act"), CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_every_service_taking_free_text_refuses_a_personnummer(app_ctx: Any, world: World, where: str,
                                                               act: Callable[[World], Any]) -> None:
    with pytest.raises(InvalidInput, match=f"^Skriv inte personnummer i {where}\\.$"):
        act(world)
