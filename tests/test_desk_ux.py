"""The desk and card screens after the UX review: card expiry, the card number's shape, cards waiting for the
recipient's acceptance, the revoke confirm step and the hand-over page. Services first, then the web (and API)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from cardadmin.db import db
from cardadmin.errors import Conflict, Forbidden, InvalidInput
from cardadmin.orders import cards, service
from cardadmin.orders.models import Card, IdentityCheck, Order
from cardadmin.orders.states import Status
from cardadmin.roles import Role
from cardadmin.timefmt import LOCAL
from tests.conftest import World, build_world
from tests.test_orders_api import _h, _tokens
from tests.test_orders_service import DOC, order_for, to_status
from tests.test_orders_views import _drive, _new_order, _order
from tests.test_people import user

IDENTITY = {"method": "document", "document_type": "passport",
            "document_valid_until": (date.today() + timedelta(days=400)).isoformat(), "document_number": "AB12345678"}


@pytest.fixture
def w(app_ctx: Any) -> World:
    return build_world()


def _cards() -> int:
    return db.session.scalar(select(func.count()).select_from(Card)) or 0


# ---------------------------------------------------------------- 1. expiry


@pytest.mark.parametrize("expires_on", [date(2020, 1, 1), date.today() - timedelta(days=1),
                                        date.today() + timedelta(days=10 * 366 + 3)])
def test_registration_refuses_an_expiry_date_in_the_past_or_absurdly_far_ahead(w: World, expires_on: date) -> None:
    order = to_status(w, order_for(w), Status.IN_PRODUCTION)
    with pytest.raises(InvalidInput) as refused:
        service.mark_at_desk(user(w, "card_admin"), order.id, "9752000000001", expires_on=expires_on)
    assert refused.value.field == "expires_on" and "Kontrollera datumet" in refused.value.message
    db.session.rollback()
    assert _cards() == 0 and db.session.get(Order, order.id).status == Status.IN_PRODUCTION


def test_registration_takes_today_and_ten_years_ahead(w: World) -> None:
    first, second = to_status(w, order_for(w, "P1"), Status.IN_PRODUCTION), \
        to_status(w, order_for(w, "P2"), Status.IN_PRODUCTION)
    ka = user(w, "card_admin")
    service.mark_at_desk(ka, first.id, "9752000000001", expires_on=date.today())
    today = date.today()
    service.mark_at_desk(ka, second.id, "9752000000002", expires_on=today.replace(year=today.year + 10)
                         if (today.month, today.day) != (2, 29) else today + timedelta(days=3652))
    assert _cards() == 2


def test_a_card_past_its_expiry_date_is_not_handed_over(w: World) -> None:
    order = to_status(w, order_for(w), Status.AT_DESK)
    order.card.expires_on = date.today() - timedelta(days=1)  # it lay at the desk until it ran out
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        service.hand_over(user(w, "card_admin"), order.id, "9752000000001", DOC)
    assert "gick ut" in refused.value.message and "ersättningskort" in refused.value.message
    db.session.rollback()
    assert db.session.get(Order, order.id).status == Status.AT_DESK
    assert db.session.scalar(select(func.count()).select_from(IdentityCheck)) == 0
    # It is revoked instead (the desk may revoke a card lying there).
    cards.revoke_card(user(w, "card_admin"), order.card_id, "wrong_data", "Korthandläggaren")
    assert order.card.status == Status.REVOKED


def test_expiry_is_the_day_after_the_last_valid_day_for_hand_over_and_expire_alike(w: World) -> None:
    order = to_status(w, order_for(w), Status.AT_DESK)
    order.card.expires_on = date.today()  # valid through today
    db.session.commit()
    service.hand_over(user(w, "card_admin"), order.id, "9752000000001", DOC)
    service.activate(user(w, "card_admin"), order.id)
    with pytest.raises(Conflict):
        cards.expire_card(None, order.card_id)


def test_web_and_api_refuse_an_expired_card(app: Any, client: Any, world: Any) -> None:
    order_id = _new_order(app, world)
    _drive(app, world, order_id, Status.IN_PRODUCTION)
    client.login("card_admin")
    past = client.post_form(f"/utlamning/{order_id}/kort", {"card_number": "9752000000102",
                                                             "expires_on": "2020-01-01"})
    assert past.status_code == 400 and "ett utgånget kort kan inte registreras" in past.get_data(as_text=True)
    token = _tokens(app, world, "card_admin")["card_admin"]
    api = app.test_client().post(f"/api/v1/orders/{order_id}/at-desk", headers=_h(token),
                                 json={"card_number": "9752000000102", "expires_on": "2099-01-01"})
    assert api.status_code == 400 and "mer än 10 år" in api.json["error"]["message"]
    with app.app_context():
        assert _cards() == 0
    assert client.post_form(f"/utlamning/{order_id}/kort", {"card_number": "9752000000102",
                                                             "expires_on": date.today().isoformat()}).status_code == 302
    with app.app_context():
        _order(order_id).card.expires_on = date.today() - timedelta(days=3)
        db.session.commit()
    refused = client.post_form(f"/utlamning/{order_id}/utlamning", {"card_number": "9752000000102", **IDENTITY})
    assert refused.status_code == 409 and "kan inte lämnas ut" in refused.get_data(as_text=True)
    handed = app.test_client().post(f"/api/v1/orders/{order_id}/hand-over", headers=_h(token),
                                    json={"card_number": "9752000000102", **IDENTITY})
    assert handed.status_code == 409 and "gick ut" in handed.json["error"]["message"]
    with app.app_context():
        assert _order(order_id).status == Status.AT_DESK


# ---------------------------------------------------------------- 4. card numbers


@pytest.mark.parametrize("typed", ["abc 123", "ABC123", "9752 0000 00O1", "٩٧٥٢٠٠٠٠٠١", "12;DROP", "12345"])
def test_card_numbers_are_digits_only(w: World, typed: str) -> None:
    order = to_status(w, order_for(w), Status.IN_PRODUCTION)
    with pytest.raises(InvalidInput) as refused:
        service.mark_at_desk(user(w, "card_admin"), order.id, typed)
    assert refused.value.field == "card_number" and "siffror" in refused.value.message
    db.session.rollback()
    assert _cards() == 0


def test_card_numbers_typed_in_groups_are_stored_as_digits(w: World) -> None:
    order = to_status(w, order_for(w), Status.IN_PRODUCTION)
    service.mark_at_desk(user(w, "card_admin"), order.id, " 9752 0000-0000 07 ")
    assert order.card.card_number == "97520000000007"
    with pytest.raises(InvalidInput, match="siffror"):
        service.hand_over(user(w, "card_admin"), order.id, "abc 123", DOC)


def test_web_api_and_search_refuse_letters_in_a_card_number(app: Any, client: Any, world: Any) -> None:
    order_id = _new_order(app, world)
    _drive(app, world, order_id, Status.IN_PRODUCTION)
    client.login("card_admin")
    page = client.post_form(f"/utlamning/{order_id}/kort", {"card_number": "abc 123"})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and f"Beställning {order_id} (" in text and "siffror" in text
    assert 'value="abc 123"' in text and 'aria-invalid="true"' in text  # the row keeps what was typed
    empty = client.post_form(f"/utlamning/{order_id}/kort", {"card_number": ""}).get_data(as_text=True)
    assert f"Beställning {order_id} (" in empty and "Fyll i kortnumret." in empty
    token = _tokens(app, world, "card_admin")["card_admin"]
    api = app.test_client().post(f"/api/v1/orders/{order_id}/at-desk", headers=_h(token),
                                 json={"card_number": "ABC123"})
    assert api.status_code == 400 and "siffror" in api.json["error"]["message"]
    listed = app.test_client().get("/api/v1/cards?card_number=abc123", headers=_h(token))
    assert listed.status_code == 400
    with app.app_context():
        assert _cards() == 0
    search = client.get("/kort/sok?kortnummer=abc")
    assert search.status_code == 400 and "bara av siffror" in search.get_data(as_text=True)
    assert client.get("/kort/sok?kortnummer=9752 00").status_code == 200


# ---------------------------------------------------------------- 2. handed over, waiting for the acceptance


def test_who_may_take_the_desk_steps_of_an_order(w: World) -> None:
    from tests.test_people import add_user

    order = to_status(w, order_for(w), Status.HANDED_OVER)
    other_desk = add_user(w, "ka_other", [Role.CARD_ADMIN], w.region_id, [w.other_desk_id])
    assert service.works_at_desk_of(user(w, "card_admin"), order)
    assert not service.works_at_desk_of(other_desk, order)
    assert not service.works_at_desk_of(user(w, "ra_officer"), order)
    with pytest.raises(Forbidden):
        service.at_my_desk(other_desk, order)


def test_a_handed_over_card_is_listed_counted_and_linked_until_accepted(app: Any, client: Any, new_client: Any,
                                                                        world: Any) -> None:
    order_id = _new_order(app, world)
    _drive(app, world, order_id, Status.HANDED_OVER)
    with app.app_context():
        card_id = _order(order_id).card_id
    receipt = f"/utlamning/{order_id}/kvitto"
    client.login("card_admin")
    queue = client.get("/utlamning/").get_data(as_text=True)
    assert "Väntar på kvittens (1)" in queue and f'href="{receipt}"' in queue
    assert re.search(r'<strong class="count">1</strong>\s*Utlämnade kort som väntar på kvittens',
                     client.get("/").get_data(as_text=True))
    for page in (f"/bestallningar/{order_id}", f"/kort/{card_id}"):
        text = client.get(page).get_data(as_text=True)
        assert f'href="{receipt}"' in text and "kvittens är inte registrerad" in text, page
    ra = new_client()
    ra.login("ra_officer")  # may see the order and the card, not take the desk's step
    for page in (f"/bestallningar/{order_id}", f"/kort/{card_id}"):
        assert receipt not in ra.get(page).get_data(as_text=True)
    assert client.post_form(f"/utlamning/{order_id}/aktivera").status_code == 302
    assert "Väntar på kvittens (0)" in client.get("/utlamning/").get_data(as_text=True)
    assert receipt not in client.get(f"/kort/{card_id}").get_data(as_text=True)


# ---------------------------------------------------------------- 3. revoking one card


def test_not_collected_is_a_reason_only_for_a_card_lying_at_the_desk(w: World) -> None:
    active = to_status(w, order_for(w, "P1"), Status.ACTIVE, "9752000000001")
    waiting = to_status(w, order_for(w, "P2"), Status.AT_DESK, "9752000000002")
    assert "not_collected" not in cards.manual_reasons(active.card)
    assert "not_collected" in cards.manual_reasons(waiting.card)
    assert "replaced" not in cards.manual_reasons(waiting.card)
    ka = user(w, "card_admin")
    for reason, expected in (("not_collected", "Ej uthämtat"), ("replaced", "Ersatt"), ("", "Välj skäl")):
        with pytest.raises(InvalidInput) as refused:
            cards.revoke_card(ka, active.card_id, reason, "Kortinnehavaren")
        assert refused.value.field == "reason" and expected in refused.value.message
        db.session.rollback()
    assert db.session.get(Card, active.card_id).status == Status.ACTIVE
    cards.revoke_card(ka, waiting.card_id, "not_collected", "Korthandläggaren")
    assert waiting.card.status == Status.REVOKED


def test_revoke_refusal_names_every_problem_at_once(w: World) -> None:
    active = to_status(w, order_for(w), Status.ACTIVE)
    with pytest.raises(InvalidInput) as refused:
        cards.revoke_card(user(w, "card_admin"), active.card_id, "", "")
    assert set(refused.value.errors) == {"reason", "requested_by"}


def test_the_card_page_asks_for_a_reason_and_a_confirmation(app: Any, client: Any, world: Any) -> None:
    order_id = _new_order(app, world)
    _drive(app, world, order_id, Status.ACTIVE)
    with app.app_context():
        card_id = _order(order_id).card_id
    client.login("card_admin")
    page = client.get(f"/kort/{card_id}").get_data(as_text=True)
    assert 'name="confirmed"' in page and "— välj skäl —" in page
    assert "selected" not in page.split('id="reason"')[1].split("</select>")[0]  # no reason chosen for the user
    assert 'value="not_collected"' not in page  # an active card was collected
    revoke = f"/kort/{card_id}/sparra"
    nothing = client.post_form(revoke, {"reason": "", "requested_by": ""}).get_data(as_text=True)
    for message in ("Välj skäl för spärren.", "Fyll i vem som begärde spärren.", "Bekräfta spärren"):
        assert message in nothing  # all at once
    unconfirmed = client.post_form(revoke, {"reason": "lost", "requested_by": "Kortinnehavaren"})
    assert unconfirmed.status_code == 400 and "Bekräfta spärren" in unconfirmed.get_data(as_text=True)
    forged = client.post_form(revoke, {"reason": "not_collected", "requested_by": "X", "confirmed": "y"})
    assert forged.status_code == 400
    token = _tokens(app, world, "card_admin")["card_admin"]
    api = app.test_client().post(f"/api/v1/cards/{card_id}/revoke", headers=_h(token),
                                 json={"reason": "not_collected", "requested_by": "X"})
    assert api.status_code == 400 and "Ej uthämtat" in api.json["error"]["message"]
    with app.app_context():
        assert _order(order_id).card.status == Status.ACTIVE
    done = client.post_form(revoke, {"reason": "lost", "requested_by": "Kortinnehavaren", "confirmed": "y"})
    assert done.status_code == 302
    with app.app_context():
        assert _order(order_id).card.status == Status.REVOKED


# ---------------------------------------------------------------- 5. the hand-over page


def test_hand_over_names_every_problem_at_once(w: World) -> None:
    order = to_status(w, order_for(w), Status.AT_DESK)
    ka = user(w, "card_admin")
    with pytest.raises(InvalidInput) as document:
        service.hand_over(ka, order.id, "9752000000999",
                          service.IdentityInput("document", None, date.today() - timedelta(days=1), "12"))
    assert set(document.value.errors) == {"card_number", "document_type", "document_valid_until", "document_number"}
    assert "stämmer inte" in document.value.errors["card_number"]
    with pytest.raises(InvalidInput) as witness:
        service.hand_over(ka, order.id, "", service.IdentityInput("witness"))
    assert witness.value.errors["card_number"] == "Fyll i kortnumret."
    assert set(witness.value.errors) == {"card_number", "witness_name", "witness_hsa_id"}
    db.session.rollback()
    assert db.session.get(Order, order.id).status == Status.AT_DESK


def test_hand_over_page_focus_links_both_parts_without_script_and_errors_beside_fields(app: Any, client: Any,
                                                                                     world: Any) -> None:
    order_id = _new_order(app, world)
    _drive(app, world, order_id, Status.AT_DESK)
    with app.app_context():
        order = _order(order_id)
        card_id, person_id = order.card_id, order.person_id
    client.login("card_admin")
    page = client.get(f"/utlamning/{order_id}/utlamning").get_data(as_text=True)
    assert re.search(r'<input[^>]*autofocus[^>]*id="card_number"|<input[^>]*id="card_number"[^>]*autofocus', page)
    for link in (f"/bestallningar/{order_id}", f"/personer/{person_id}", f"/kort/{card_id}"):
        assert f'href="{link}"' in page, link
    # Without script both parts are there (app.js hides the one not chosen); no inline script (CSP).
    assert 'data-shown-value="document"' in page and 'data-shown-value="witness"' in page
    assert "<script>" not in page
    posted = client.post_form(f"/utlamning/{order_id}/utlamning", {"method": "document", "card_number": "",
                                                                   "document_number": "1"})
    text = posted.get_data(as_text=True)
    assert posted.status_code == 400
    for name, message in (("card_number", "Fyll i kortnumret."), ("document_type", "Välj vilken id-handling"),
                          ("document_valid_until", "Ange id-handlingens giltighetstid."),
                          ("document_number", r"Ange id-handlingens nummer \(minst de fyra sista")):
        assert re.search(rf'id="{name}-error">{message}', text), name
    assert "autofocus" not in text  # app.js puts the focus on the first field in error instead


# ---------------------------------------------------------------- 6. the receipt


def test_receipt_has_place_and_date_and_a_print_button(app: Any, client: Any, world: Any) -> None:
    order_id = _new_order(app, world)
    _drive(app, world, order_id, Status.HANDED_OVER)
    with app.app_context():
        order = _order(order_id)
        town, day = order.desk.town, order.handed_over_at.astimezone(LOCAL).date().isoformat()
    client.login("card_admin")
    page = client.get(f"/utlamning/{order_id}/kvitto").get_data(as_text=True)
    assert re.search(rf"Ort och datum: <span[^>]*>{re.escape(town)}, {day}</span>", page)
    assert "data-print hidden" in page and "<script>" not in page  # shown by app.js, which calls window.print
