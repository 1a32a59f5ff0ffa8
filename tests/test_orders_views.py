"""The order, RA, desk, card, person and search screens: happy paths, failure paths (4xx, Swedish message,
nothing half-changed), scope and the audit rows they leave."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from cardadmin.db import db, utcnow
from cardadmin.orders.models import Card, IdentityCheck, Order, Revocation
from cardadmin.orders.states import Status
from cardadmin.roles import Role
from tests.test_orders_service import actions, to_status
from tests.test_people import PNR, add_person, add_user, user


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _order(order_id: int) -> Order:
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order is not None
    return order


def _new_order(app: Any, world: Any, local: str = "P1", **person: Any) -> int:
    with app.app_context():
        p = add_person(world, local, **person)
        from cardadmin.orders import service

        order = service.create_order(user(world, "orderer"), person_id=p.id, order_type="new", desk_id=world.desk_id)
        db.session.commit()
        return order.id


def _drive(app: Any, world: Any, order_id: int, target: Status, number: str = "9752000000001") -> None:
    with app.app_context():
        to_status(world, _order(order_id), target, number)


def _nonce(page: str) -> str:
    match = re.search(r'name="nonce" type="hidden" value="([^"]+)"', page)
    assert match, "no nonce"
    return match.group(1)


# ---------------------------------------------------------------- orderer


def test_orderer_finds_person_orders_and_double_submission_creates_one_order(app, client, world):
    with app.app_context():
        person = add_person(world, "4KX7", given_name="Greta")
        person_id = person.id
    client.login("orderer")
    found = client.get("/bestallningar/ny?q=SE2321000222-4KX7").get_data(as_text=True)
    assert "Greta" in found and f"person_id={person_id}" in found
    assert "Ingen person hittades" in client.get("/bestallningar/ny?q=Nobody").get_data(as_text=True)
    page = client.get(f"/bestallningar/ny?person_id={person_id}").get_data(as_text=True)
    form = {"person_id": person_id, "nonce": _nonce(page), "order_type": "new", "desk_id": world.desk_id}
    first = client.post_form("/bestallningar/ny", form)
    assert first.status_code == 302
    again = client.post_form("/bestallningar/ny", form)  # the same form submitted twice
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert "redan skickad" in client.get(again.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert _count(Order) == 1
        order = db.session.scalar(select(Order))
        assert actions("order", order.id) == ["order.create"]
    mine = client.get("/bestallningar/mina").get_data(as_text=True)
    assert "Greta" in mine and "Beställd" in mine


def test_second_open_order_from_a_fresh_form_is_a_friendly_409(app, client, world):
    order_id = _new_order(app, world)
    with app.app_context():
        person_id = _order(order_id).person_id
    client.login("orderer")
    nonce = _nonce(client.get(f"/bestallningar/ny?person_id={person_id}").get_data(as_text=True))
    response = client.post_form("/bestallningar/ny", {"person_id": person_id, "nonce": nonce, "order_type": "new",
                                                      "desk_id": world.desk_id})
    assert response.status_code == 409
    assert "redan en pågående beställning" in response.get_data(as_text=True)
    with app.app_context():
        assert _count(Order) == 1


def test_missing_desk_is_a_400_and_nothing_is_stored(app, client, world):
    with app.app_context():
        person_id = add_person(world).id
    client.login("orderer")
    response = client.post_form("/bestallningar/ny", {"person_id": person_id, "order_type": "new", "desk_id": ""})
    assert response.status_code == 400 and "Välj kortutlämning" in response.get_data(as_text=True)
    with app.app_context():
        assert _count(Order) == 0


def test_orderer_cannot_order_for_a_person_of_another_organisation(app, client, world):
    with app.app_context():
        person_id = add_person(world, "K1", org="kommun").id
    client.login("orderer")
    assert client.get(f"/bestallningar/ny?person_id={person_id}").status_code == 404


def test_create_missing_person_on_the_linked_page_then_back_to_the_order(app, client, world):
    client.login("orderer")
    page = client.get("/bestallningar/ny?q=SE2321000222-NY1").get_data(as_text=True)
    assert "Registrera en ny kortmottagare" in page
    response = client.post_form("/personer/ny?till=bestallning", {
        "hsa_id": "SE2321000222-NY1", "given_name": "Nils", "surname": "Nyman", "organisation_id": world.region_id,
        "personnummer": PNR})
    assert response.status_code == 302 and "/bestallningar/ny?person_id=" in response.headers["Location"]
    bad = client.post_form("/personer/ny", {"hsa_id": "SE123", "given_name": "X", "surname": "Y",
                                            "organisation_id": world.region_id})
    assert bad.status_code == 400
    with app.app_context():
        from cardadmin.people.models import Person

        assert _count(Person) == 1


# ---------------------------------------------------------------- RA


def test_ra_queue_oldest_first_with_age_and_scope(app, client, new_client, world):
    older, newer = _new_order(app, world, "P1"), _new_order(app, world, "P2")
    with app.app_context():
        db.session.execute(update(Order).where(Order.id == older).values(created_at=utcnow() - timedelta(days=3)))
        db.session.commit()
    client.login("ra_officer")
    page = client.get("/bestallningar/att-godkanna").get_data(as_text=True)
    assert page.index("BergP1") < page.index("BergP2") and "3 dagar" in page
    other = new_client()
    other.login("ra_kommun")
    assert "BergP1" not in other.get("/bestallningar/att-godkanna").get_data(as_text=True)
    assert other.get(f"/bestallningar/{older}").status_code == 404
    refused = other.post_form("/bestallningar/beslut", {"order_ids": [older], "action": "approve"})
    assert refused.status_code == 409 and "finns inte" in refused.get_data(as_text=True)
    assert "BergP1" not in other.get("/kort/sok?q=Anna").get_data(as_text=True)
    with app.app_context():
        assert _order(older).status == Status.ORDERED and _order(newer).status == Status.ORDERED


def test_ra_keyset_pagination(app, client, world):
    ids = [_new_order(app, world, f"Q{i}") for i in range(3)]
    from cardadmin.orders import views

    views.PAGE, old = 2, views.PAGE
    try:
        client.login("ra_officer")
        page = client.get("/bestallningar/att-godkanna").get_data(as_text=True)
        assert "BergQ0" in page and "BergQ1" in page and "BergQ2" not in page
        link = re.search(r'href="(/bestallningar/att-godkanna\?efter=[^"]+)"', page)
        assert link
        second = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
        assert "BergQ2" in second and "BergQ0" not in second
    finally:
        views.PAGE = old
    assert len(ids) == 3


def test_ra_queue_shows_the_orderers_comment_and_the_card_a_replacement_replaces(app, client, world):
    first = _new_order(app, world)
    _drive(app, world, first, Status.ACTIVE, "9752000000077")
    with app.app_context():
        from cardadmin.orders import service

        service.create_order(user(world, "orderer"), person_id=_order(first).person_id,
                             order_type="replacement_damaged", desk_id=world.desk_id,
                             comment="Chipet är sprucket.")
        db.session.commit()
    client.login("ra_officer")
    page = client.get("/bestallningar/att-godkanna").get_data(as_text=True)
    assert "Beställarens kommentar: Chipet är sprucket." in page
    assert "ersätter kort" in page and "…0077" in page and "Aktivt" in page


def test_reject_needs_a_reason_and_changes_nothing_without_one(app, client, world):
    order_id = _new_order(app, world)
    client.login("ra_officer")
    other = _new_order(app, world, "P9")
    response = client.post_form("/bestallningar/beslut", {"order_ids": [order_id], "action": "reject"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Ange ett skäl" in page
    # what the officer had ticked stays ticked, so the reason can be added and the form sent again
    assert f'value="{order_id}" id="order-{order_id}" checked' in page
    assert f'value="{other}" id="order-{other}">' in page
    with app.app_context():
        assert _order(order_id).status == Status.ORDERED
        assert actions("order", order_id) == ["order.create"]
    done = client.post_form("/bestallningar/beslut", {"order_ids": [order_id], "action": "reject",
                                                      "reason": "Fel enhet"})
    assert done.status_code == 200 and "Avslagen" in done.get_data(as_text=True)
    with app.app_context():
        assert _order(order_id).decision_reason == "Fel enhet"
        assert actions("order", order_id) == ["order.create", "order.reject"]


def test_approve_many_shows_a_result_per_order_four_eyes_included(app, client, world):
    a, b = _new_order(app, world, "P1"), _new_order(app, world, "P2")
    with app.app_context():
        from cardadmin.accounts import service as accounts
        from cardadmin.orders import service
        from cardadmin.roles import Role

        both = accounts.create_user(user(world, "admin"), accounts.UserInput(
            "chef", "Chef", roles=[Role.ORDERER, Role.RA_OFFICER], organisation_id=world.region_id), "Test-password-1")
        db.session.commit()
        own = service.create_order(both, person_id=add_person(world, "P3").id, order_type="new",
                                   desk_id=world.desk_id).id
        db.session.commit()
    client.login("chef")
    response = client.post_form("/bestallningar/beslut", {"order_ids": [a, b, own], "action": "approve"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "2 av 3" in text and "fyraögonsprincipen" in text
    with app.app_context():
        assert [_order(i).status for i in (a, b, own)] == [Status.APPROVED, Status.APPROVED, Status.ORDERED]


# ---------------------------------------------------------------- desk


def test_desk_produces_registers_and_hands_over_with_identity_check(app, client, world):
    order_id = _new_order(app, world, personnummer=PNR)
    _drive(app, world, order_id, Status.APPROVED)
    client.login("card_admin")
    assert "Att tillverka" in client.get("/utlamning/").get_data(as_text=True)
    assert client.post_form(f"/utlamning/{order_id}/tillverkning").status_code == 302
    bad = client.post_form(f"/utlamning/{order_id}/kort", {"card_number": "12"})
    assert bad.status_code == 400 and "Kortnumret ska bestå" in bad.get_data(as_text=True)
    with app.app_context():
        assert _count(Card) == 0
    assert client.post_form(f"/utlamning/{order_id}/kort", {"card_number": "9752 0000 0000 07"}).status_code == 302
    page = client.get(f"/utlamning/{order_id}/utlamning").get_data(as_text=True)
    assert "Läs från kortläsaren" in page and "data-reader-url" in page and "19121212-****" in page
    assert PNR not in page and "19121212-1212" not in page
    identity = {"method": "document", "document_type": "passport",
                "document_valid_until": (date.today() + timedelta(days=400)).isoformat(),
                "document_number": "AB12345678"}
    wrong = client.post_form(f"/utlamning/{order_id}/utlamning", {"card_number": "9752000000999", **identity})
    assert wrong.status_code == 400 and "stämmer inte" in wrong.get_data(as_text=True)
    witness = client.post_form(f"/utlamning/{order_id}/utlamning", {
        "card_number": "97520000000007", "method": "witness", "witness_name": "Card_Admin",
        "witness_hsa_id": "SE2321000222-W1"})
    assert witness.status_code == 400 and "Vittnet får inte vara" in witness.get_data(as_text=True)
    with app.app_context():
        assert _order(order_id).status == Status.AT_DESK and _count(IdentityCheck) == 0
    done = client.post_form(f"/utlamning/{order_id}/utlamning", {"card_number": "97520000000007", **identity})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/utlamning/{order_id}/kvitto")
    receipt = client.get(f"/utlamning/{order_id}/kvitto").get_data(as_text=True)
    assert "Kvittens" in receipt and "Svenskt pass" in receipt and "5678" in receipt and "12345678" not in receipt
    accepted = client.post_form(f"/utlamning/{order_id}/aktivera")
    assert accepted.status_code == 302
    with app.app_context():
        order = _order(order_id)
        assert order.status == Status.ACTIVE and order.card.status == Status.ACTIVE
        assert actions("order", order_id)[-4:] == ["order.in_production", "order.at_desk", "order.hand_over",
                                                   "order.activate"]
    card_page = client.get(accepted.headers["Location"]).get_data(as_text=True)
    assert "Utlämning med identitetskontroll" in card_page and "19121212-****" in card_page
    assert "Mottagaren har kvitterat" in card_page
    assert client.post_form(f"/utlamning/{order_id}/aktivera").status_code == 409  # already active


def test_cards_waiting_are_flagged_after_60_and_90_days(app, client, world):
    a, b = _new_order(app, world, "P1"), _new_order(app, world, "P2")
    _drive(app, world, a, Status.AT_DESK, "9752000000001")
    _drive(app, world, b, Status.AT_DESK, "9752000000002")
    with app.app_context():
        db.session.execute(update(Order).where(Order.id == a).values(at_desk_at=utcnow() - timedelta(days=65)))
        db.session.execute(update(Order).where(Order.id == b).values(at_desk_at=utcnow() - timedelta(days=95)))
        db.session.commit()
    client.login("card_admin")
    page = client.get("/utlamning/").get_data(as_text=True)
    assert "65 dagar" in page and "Över 60 dagar" in page
    assert "95 dagar" in page and "ska spärras" in page


def test_desk_of_another_desk_is_refused(app, client, world):
    order_id = _new_order(app, world)
    _drive(app, world, order_id, Status.AT_DESK)
    with app.app_context():
        add_user(world, "ka_umea", [__import__("cardadmin.roles", fromlist=["Role"]).Role.CARD_ADMIN],
                 world.region_id, [world.other_desk_id])
    client.login("ka_umea")
    assert client.get(f"/utlamning/{order_id}/utlamning").status_code == 404
    assert "BergP1" not in client.get("/utlamning/").get_data(as_text=True)


def test_replacement_hand_over_revokes_the_old_card(app, client, world):
    first = _new_order(app, world)
    _drive(app, world, first, Status.ACTIVE, "9752000000001")
    with app.app_context():
        from cardadmin.orders import service

        replacement = service.create_order(user(world, "orderer"), person_id=_order(first).person_id,
                                           order_type="replacement_damaged", desk_id=world.desk_id).id
        db.session.commit()
        to_status(world, _order(replacement), Status.AT_DESK, "9752000000002")
    client.login("card_admin")
    response = client.post_form(f"/utlamning/{replacement}/utlamning", {
        "card_number": "9752000000002", "method": "witness", "witness_name": "Vera Vittne",
        "witness_hsa_id": "SE2321000222-W1"})
    assert response.status_code == 302
    with app.app_context():
        old = _order(first).card
        assert old.status == Status.REVOKED and old.replaced_by_id == _order(replacement).card_id
        assert db.session.scalar(select(Revocation.reason).where(Revocation.card_id == old.id)) == "replaced"


# ---------------------------------------------------------------- card, person, search


def test_revoke_on_the_card_page_and_replacement_link(app, client, new_client, world):
    order_id = _new_order(app, world)
    _drive(app, world, order_id, Status.ACTIVE)
    with app.app_context():
        card_id = _order(order_id).card_id
    client.login("card_admin")
    missing = client.post_form(f"/kort/{card_id}/sparra", {"reason": "lost", "requested_by": ""})
    assert missing.status_code == 400
    with app.app_context():
        assert _count(Revocation) == 0
    assert client.post_form(f"/kort/{card_id}/sparra", {"reason": "lost", "requested_by": "Kortinnehavaren",
                                                         "confirmed": "y"}).status_code == 302
    with app.app_context():
        assert actions("card", card_id)[-1] == "card.revoke"
    orderer = new_client()
    orderer.login("orderer")
    page = orderer.get(f"/kort/{card_id}").get_data(as_text=True)
    assert "Beställ ersättningskort" in page and "order_type=replacement_lost" in page


def test_card_history_reads_in_swedish_and_lists_each_act_once(app, client, world):
    """The order's and the card's audit rows of one act (hand-over, activation) appear once, in Swedish words."""
    order_id = _new_order(app, world)
    _drive(app, world, order_id, Status.ACTIVE)
    with app.app_context():
        card_id = _order(order_id).card_id
    client.login("card_admin")
    page = client.get(f"/kort/{card_id}").get_data(as_text=True)
    history = page.split('class="history"')[1].split("</table>")[0]
    assert history.count("Utlämning med identitetskontroll") == 1 and ">Utlämnat<" not in history
    assert history.count("Mottagaren har kvitterat") == 1 and ">Aktivt<" not in history
    assert "Kortnummer registrerat" in history  # a card-only act stays
    assert "identitet: Svenskt" in history and "giltig till" in history
    assert "kortutlämning: " in history and "status: Beställd" in history
    for raw in ("desk_id", "order_type", "document_number_last4", "{'", "status: ordered"):
        assert raw not in history, raw


def test_person_page_masks_the_personnummer_and_shows_history(app, client, world):
    with app.app_context():
        person_id = add_person(world, "M1", personnummer=PNR).id
    client.login("orderer")
    page = client.get(f"/personer/{person_id}").get_data(as_text=True)
    assert "19121212-****" in page and "1212-1212" not in page and "191212121212" not in page
    assert "Person registrerad" in page
    client.login("ra_kommun")
    assert client.get(f"/personer/{person_id}").status_code == 404


def test_search_and_bulk_revoke_with_confirm_step_and_per_item_result(app, client, world):
    a, b, c = (_new_order(app, world, f"S{i}") for i in range(3))
    _drive(app, world, a, Status.ACTIVE, "9752000000011")
    _drive(app, world, b, Status.ACTIVE, "9752000000012")
    with app.app_context():
        cards = [_order(a).card_id, _order(b).card_id]
    client.login("ra_officer")
    page = client.get("/kort/sok?q=Anna&status=active").get_data(as_text=True)
    assert "BergS0" in page and "BergS1" in page and "BergS2" not in page
    assert "BergS2" in client.get("/kort/sok?q=BergS2").get_data(as_text=True)
    assert "9752000000011" in client.get("/kort/sok?kortnummer=97520000000 11").get_data(as_text=True)
    confirm = client.post_form("/kort/sok/sparra", {"card_ids": cards})
    assert confirm.status_code == 200 and "Spärra 2 kort" in confirm.get_data(as_text=True)
    with app.app_context():
        assert _count(Revocation) == 0  # the first step changes nothing
    no_reason = client.post_form("/kort/sok/sparra", {"card_ids": cards, "confirm": "1", "reason": "lost"})
    assert no_reason.status_code == 400
    with app.app_context():
        from cardadmin.orders import cards as card_service

        card_service.revoke_card(user(world, "admin"), cards[1], "damaged", "Admin")
        db.session.commit()
    result = client.post_form("/kort/sok/sparra", {"card_ids": cards, "confirm": "1",
                                                   "reason": "employment_ended", "requested_by": "HR"})
    text = result.get_data(as_text=True)
    assert result.status_code == 200 and "1 av 2" in text and "redan spärrat" in text
    with app.app_context():
        assert db.session.get(Card, cards[0]).status == Status.REVOKED
        assert _count(Revocation) == 2
    assert c


def test_evaluator_sees_none_of_the_order_screens(client, world):
    client.login("evaluator")
    for path in ("/bestallningar/ny", "/bestallningar/mina", "/bestallningar/att-godkanna", "/utlamning/",
                 "/kort/sok", "/bestallningar/1", "/kort/1", "/personer/1"):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("path", ["/bestallningar/999", "/kort/999", "/personer/999", "/utlamning/999/utlamning"])
def test_unknown_ids_are_404_in_swedish(client, world, path):
    client.login("admin" if not path.startswith("/utlamning") else "card_admin")
    response = client.get(path)
    assert response.status_code == 404 and "finns inte" in response.get_data(as_text=True)


def test_start_page_counts_what_waits_for_each_role(app: Any, new_client: Any, world: Any) -> None:
    _new_order(app, world, "P1")
    _new_order(app, world, "P2")
    with app.app_context():
        from tests.test_orders_service import order_for

        at_desk = to_status(world, order_for(world, "P3"), Status.AT_DESK)
        db.session.execute(update(Order).where(Order.id == at_desk.id)
                           .values(at_desk_at=utcnow() - timedelta(days=61)))
        db.session.commit()

    def work(username: str) -> dict[str, int]:
        browser = new_client()
        browser.login(username)
        page = browser.get("/").get_data(as_text=True)
        return {label.strip(): int(n) for n, label in
                re.findall(r'<strong class="count">(\d+)</strong>([^<]+)</a>', page)}

    assert work("ra_officer") == {"Beställningar att godkänna": 2, "Tidrapporter att attestera": 0}
    assert work("ra_kommun") == {"Beställningar att godkänna": 0,  # other organisation's staff
                                 "Tidrapporter att attestera": 0}
    assert work("card_admin") == {"Att tillverka": 0, "Kort som väntar på att hämtas": 1,
                                  "Utlämnade kort som väntar på kvittens": 0, "Kort som väntat mer än 60 dagar": 1}
    assert work("orderer") == {"Mina pågående beställningar": 3}
    assert work("evaluator") == {"Tidrapporter att attestera": 0}


def test_two_ra_officers_clicking_approve_at_once_through_the_web(make_app: Any, app: Any, new_client: Any,
                                                                   world: Any) -> None:
    """Two browsers on two app instances (as two gunicorn workers) post the same decision together: exactly
    one approves, the other is told it is already handled; one audit row and one notification."""
    import threading

    from cardadmin.outbox.models import OutboxMessage

    order_id = _new_order(app, world)
    with app.app_context():
        add_user(world, "ra_two", [Role.RA_OFFICER], world.region_id)
    browsers = [new_client(), new_client(on=make_app())]
    browsers[0].login("ra_officer")
    browsers[1].login("ra_two")
    for browser in browsers:
        browser.fetch_csrf("/bestallningar/att-godkanna")
    barrier = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def click(browser: Any) -> None:
        barrier.wait(timeout=10)
        response = browser.post_form("/bestallningar/beslut", {"order_ids": [order_id], "action": "approve"})
        answers.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=click, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(status for status, _ in answers) == [200, 409], [s for s, _ in answers]
    loser = next(body for status, body in answers if status == 409)
    assert "redan hanterad" in loser
    with app.app_context():
        assert _order(order_id).status == Status.APPROVED
        assert actions("order", order_id).count("order.approve") == 1
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


@pytest.mark.parametrize("path", ["/bestallningar/att-godkanna?efter=2026-01-01~%C2%B2",
                                  "/kort/sok?status=ordered&efter=2026-01-01~%C2%B2"])
def test_a_page_link_with_a_non_ascii_digit_is_no_500(app, client, world, path):
    """'²' passes str.isdigit() but not int(): a 'next page' cursor holding one gave a 500."""
    client.login("ra_officer")
    assert client.get(path).status_code in (200, 400)
