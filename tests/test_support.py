"""Support case screens: open (linked to a card in scope), resolve once, scope, bad input, audit rows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.orders import support
from cardadmin.orders.models import SupportCase
from cardadmin.orders.states import Status
from cardadmin.roles import Role
from tests.test_orders_service import order_for, to_status
from tests.test_people import add_user, audit_rows, user


def _active_card(app: Any, world: Any) -> tuple[int, str]:
    with app.app_context():
        order = to_status(world, order_for(world), Status.ACTIVE, card_number="9752000000077")
        return order.card_id, "9752000000077"


def _cases() -> list[SupportCase]:
    db.session.expire_all()
    return list(db.session.scalars(select(SupportCase).order_by(SupportCase.id)))


def _open_case(client: Any, **values: Any) -> Any:
    form = {"kind": "pin_puk", "channel": "phone", "desk_id": "", "minutes_spent": "12",
            "description": "PIN spärrad efter tre försök"} | values
    return client.post_form("/support/nytt", form)


def test_card_admin_opens_a_case_for_a_card_and_resolves_it(app: Any, client: Any, world: Any) -> None:
    card_id, number = _active_card(app, world)
    client.login("card_admin")
    page = client.get(f"/support/nytt?kort={card_id}").get_data(as_text=True)
    assert f'value="{number}"' in page  # pre-filled from the card page's link
    response = _open_case(client, card_number=number, out_of_hours="y", desk_id=str(world.desk_id))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        (case,) = _cases()
        assert (case.card_id, case.minutes_spent, case.out_of_hours, case.resolved_at) == (card_id, 12, True, None)
        assert case.person_id is not None and case.desk_id == world.desk_id
        (row,) = audit_rows("support_case.create")
        assert json.loads(row.data)["card_id"] == card_id and row.actor_id == world.users["card_admin"].id
    listing = client.get("/support/").get_data(as_text=True)
    assert "PIN spärrad / PUK" in listing and "Utanför kontorstid" in listing
    done = client.post_form(f"/support/{case.id}/los", {"resolution": "PUK lämnad, ny PIN satt", "minutes_spent": "5"})
    assert done.status_code == 302
    with app.app_context():
        (case,) = _cases()
        assert case.resolved_at is not None and case.minutes_spent == 17 and "PUK" in case.resolution
        assert len(audit_rows("support_case.resolve")) == 1
    again = client.post_form(f"/support/{case.id}/los", {"resolution": "igen", "minutes_spent": "1"})
    assert again.status_code == 409 and "redan löst" in again.get_data(as_text=True)
    with app.app_context():
        assert _cases()[0].minutes_spent == 17


def test_a_resolution_given_at_once_closes_the_case(app: Any, client: Any, world: Any) -> None:
    client.login("card_admin")
    assert _open_case(client, kind="question", channel="desk", resolution="Besvarad direkt").status_code == 302
    with app.app_context():
        assert _cases()[0].resolved_at is not None
    assert "Inga öppna supportärenden" in client.get("/support/").get_data(as_text=True)


def test_bad_input_is_a_4xx_and_stores_nothing(app: Any, client: Any, world: Any) -> None:
    _active_card(app, world)
    client.login("card_admin")
    cases = [
        ({"minutes_spent": "2000"}, 400, "0–1440"),
        ({"minutes_spent": "-1"}, 400, "0–1440"),
        ({"kind": "hacked"}, 400, "Inte ett giltigt val."),
        ({"card_number": "0000000000000000"}, 404, "finns inte bland dina kort"),
        ({"person_hsa_id": "inte-ett-id"}, 400, "HSA-id"),
        ({"person_hsa_id": "SE2321000222-NOBODY"}, 404, "ingen person"),
        ({"desk_id": str(world.other_desk_id)}, 403, "dina kortutlämningar"),
    ]
    for values, status, message in cases:
        response = _open_case(client, **values)
        assert response.status_code == status, (values, response.status_code)
        assert message in response.get_data(as_text=True), values
    with app.app_context():
        assert _cases() == [] and audit_rows("support_case.create") == []


def test_scope_another_desk_neither_sees_nor_resolves(app: Any, client: Any, new_client: Any, world: Any) -> None:
    _, number = _active_card(app, world)
    client.login("card_admin")
    _open_case(client, card_number=number, description="Synlig bara här")
    with app.app_context():
        add_user(world, "ka_umea", [Role.CARD_ADMIN], world.region_id, [world.other_desk_id])
        case_id = _cases()[0].id
    other = new_client()
    other.login("ka_umea")
    assert "Synlig bara här" not in other.get("/support/?visa=alla").get_data(as_text=True)
    assert other.post_form(f"/support/{case_id}/los", {"resolution": "x", "minutes_spent": "0"}).status_code == 404
    # The card holder works for the region: its RA officer follows the case up but cannot act on it.
    ra = new_client()
    ra.login("ra_officer")
    assert "Synlig bara här" in ra.get("/support/").get_data(as_text=True)
    assert ra.post_form(f"/support/{case_id}/los", {"resolution": "x", "minutes_spent": "0"}).status_code == 403
    assert ra.get("/support/nytt").status_code == 403
    with app.app_context():
        assert _cases()[0].resolved_at is None


def test_resolving_cannot_exceed_a_day_in_total(app_ctx: Any, world: Any) -> None:
    ka = user(world, "card_admin")
    case = support.open_support_case(ka, support.SupportInput("other", "desk", description="Lång fråga",
                                                              minutes_spent=1400))
    db.session.commit()
    with pytest.raises(InvalidInput, match="högst 1440"):
        support.resolve_support_case(ka, case.id, "klart", 100)
    db.session.rollback()
    still_open = select(func.count()).select_from(SupportCase).where(SupportCase.resolved_at.is_(None))
    assert db.session.scalar(still_open) == 1


def test_a_case_needs_a_description_and_a_closed_case_its_time(app: Any, client: Any, world: Any) -> None:
    """The UX review saved 'Supportärende 3' with no description and 0 minutes."""
    client.login("card_admin")
    empty = _open_case(client, kind="question", channel="desk", description="", minutes_spent="0")
    assert empty.status_code == 400 and "Beskrivning måste fyllas i." in empty.get_data(as_text=True)
    closed_in_no_time = _open_case(client, description="Fråga", resolution="Besvarad", minutes_spent="0")
    assert closed_in_no_time.status_code == 400
    assert "minst en minut" in closed_in_no_time.get_data(as_text=True)
    with app.app_context():
        assert _cases() == [] and audit_rows("support_case.create") == []
    assert _open_case(client, description="Återkommer", minutes_spent="0").status_code == 302  # opened only
    with app.app_context():
        (case,) = _cases()
    no_time = client.post_form(f"/support/{case.id}/los", {"resolution": "Klart", "minutes_spent": "0"})
    assert no_time.status_code == 400 and "minst en minut" in no_time.get_data(as_text=True)
    assert client.post_form(f"/support/{case.id}/los", {"resolution": "Klart", "minutes_spent": "3"}).status_code \
        == 302
    with app.app_context():
        assert (_cases()[0].minutes_spent, _cases()[0].resolved_at is not None) == (3, True)


def test_a_case_about_a_card_is_filed_under_that_card_s_holder(app_ctx: Any, world: Any) -> None:
    """A card and a person that do not belong together are refused (the case would otherwise be shown to the
    other person's RA officer); nothing is stored."""
    from tests.test_people import add_person

    ka = user(world, "card_admin")
    card_id = to_status(world, order_for(world), Status.ACTIVE, card_number="9752000000078").card_id
    stranger = add_person(world, "STRANGER")
    with pytest.raises(InvalidInput, match="annan person"):
        support.open_support_case(ka, support.SupportInput("lost_card", "desk", description="Tappat",
                                                           card_id=card_id, person_id=stranger.id))
    db.session.rollback()
    assert _cases() == []
