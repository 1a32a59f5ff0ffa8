"""The hand-over page's card verification: the section, the PIN form's refusals (4xx, Swedish message,
nothing stored), the reader endpoint's errors as JSON, and the poll the page uses for agent results.

These never touch a real card: the reader is named as one that does not exist. The real reader is in
tests/test_desk_pcsc.py (marked pcsc)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import current_app
from sqlalchemy import func, select

from cardadmin.db import db
from cardadmin.desk import verification
from cardadmin.desk.models import CardVerification
from hardware.simulator import SimulatedPivCard
from tests.conftest import build_world
from tests.desk_support import PIN, DeskPki, make_desk_pki, order_at_desk, person_hsa_id
from tests.test_people import user

NO_READER = "No Such Reader 42"


@pytest.fixture(scope="module")
def desk_pki(tmp_path_factory: pytest.TempPathFactory) -> DeskPki:
    return make_desk_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def desk(make_app: Any, new_client: Any, desk_pki: DeskPki) -> Any:
    """An app configured as a desk PC (local reader), an order at the desk with a card, a logged-in
    korthandläggare."""
    app = make_app(**desk_pki.config(CARDADMIN_READER=NO_READER))
    with app.app_context():
        world = build_world()
        profile = desk_pki.card(person_hsa_id())
        order_id = order_at_desk(world, profile.card_number or "").id
    client = new_client(app)
    client.login("card_admin")
    return app, world, profile, order_id, client


def _stored(app: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CardVerification)) or 0


def test_hand_over_page_offers_verification_and_the_reader(desk: Any) -> None:
    _app, _world, _profile, order_id, client = desk
    page = client.get(f"/utlamning/{order_id}/utlamning").get_data(as_text=True)
    assert "Verifiera kort" in page and 'type="password"' in page and "Kortet har inte verifierats än" in page
    assert 'autocomplete="one-time-code"' in page  # no "save password?" for the holder's PIN
    assert 'data-reader-url="/utlamning/kortlasare/kort"' in page and "desk.js" in page
    assert f'data-verification-poll="/utlamning/{order_id}/verifiering"' in page
    assert "<script>" not in page  # CSP: no inline script


def test_central_app_shows_no_pin_field(make_app: Any, new_client: Any, desk_pki: DeskPki) -> None:
    app = make_app(**desk_pki.config(CARDADMIN_LOCAL_READER="0"))
    with app.app_context():
        world = build_world()
        order_id = order_at_desk(world, "97520000000000000017").id
    client = new_client(app)
    client.login("card_admin")
    page = client.get(f"/utlamning/{order_id}/utlamning").get_data(as_text=True)
    assert "Verifiera kort" in page and 'type="password"' not in page and "skrivbordsagenten" in page
    refused = client.post_form(f"/utlamning/{order_id}/verifiera", {"pin": PIN})
    assert refused.status_code == 409 and "skrivbordsagenten" in refused.get_data(as_text=True)
    answer = client.get("/utlamning/kortlasare/kort")
    assert answer.status_code == 409 and "CARDADMIN_LOCAL_READER" in answer.json["error"]["message"]
    assert _stored(app) == 0


def test_no_reader_is_a_swedish_409_and_nothing_is_stored(desk: Any) -> None:
    app, _world, _profile, order_id, client = desk
    response = client.post_form(f"/utlamning/{order_id}/verifiera", {"pin": PIN})
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert NO_READER in text or "pcscd" in text  # no such reader, or no reader service on this machine
    assert PIN not in text and "Verifiera kort" in text  # the page again, without the PIN
    answer = client.get("/utlamning/kortlasare/kort")
    assert answer.status_code == 409 and answer.json["error"]["code"] == "card_reader"
    assert _stored(app) == 0


def test_pin_is_required_and_accepted_only_from_this_computer(desk: Any, new_client: Any) -> None:
    app, _world, _profile, order_id, client = desk
    empty = client.post_form(f"/utlamning/{order_id}/verifiera", {"pin": ""})
    assert empty.status_code == 400 and "PIN-kod" in empty.get_data(as_text=True)
    remote = new_client(app, address="10.1.2.3")
    remote.login("card_admin")
    refused = remote.post_form(f"/utlamning/{order_id}/verifiera", {"pin": PIN})
    assert refused.status_code == 403 and "egen dator" in refused.get_data(as_text=True)
    assert _stored(app) == 0


def test_other_roles_and_desks_are_refused(desk: Any, new_client: Any) -> None:
    app, world, _profile, order_id, _client = desk
    from cardadmin.roles import Role
    from tests.test_people import add_user

    with app.app_context():
        add_user(world, "ka_umea", [Role.CARD_ADMIN], world.region_id, [world.other_desk_id])
    other = new_client(app)
    other.login("ka_umea")
    assert other.get(f"/utlamning/{order_id}/verifiering").status_code in (403, 404)
    assert other.post_form(f"/utlamning/{order_id}/verifiera", {"pin": PIN}).status_code in (403, 404)
    orderer = new_client(app)
    orderer.login("orderer")
    assert orderer.get("/utlamning/kortlasare/kort").status_code == 403
    assert orderer.get(f"/utlamning/{order_id}/verifiering").status_code == 403
    assert _stored(app) == 0


def test_poll_and_page_show_a_stored_result_with_swedish_check_names(desk: Any) -> None:
    app, world, profile, order_id, client = desk
    assert client.get(f"/utlamning/{order_id}/verifiering").json["id"] is None
    with app.app_context():
        row = verification.verify_card(user(world, "card_admin"), order_id, SimulatedPivCard(profile), "000000",
                                       current_app.config, source="cli", reader="sim")
        db.session.commit()
        failed_id = row.id
    polled = client.get(f"/utlamning/{order_id}/verifiering").json
    assert polled["id"] == failed_id
    assert "Kortet är INTE verifierat" in polled["html"] and "Fel PIN-kod, 2 försök kvar." in polled["html"]
    for label in ("HSA-id stämmer", "Kortnummer stämmer", "Kedja till betrodd utfärdare", "Inte spärrat (CRL)",
                  "Kortet har den privata nyckeln (PIN)"):
        assert label in polled["html"]
    with app.app_context():
        verification.verify_card(user(world, "card_admin"), order_id, SimulatedPivCard(profile), PIN,
                                 current_app.config, source="cli", reader="sim")
        db.session.commit()
    page = client.get(f"/utlamning/{order_id}/utlamning").get_data(as_text=True)
    assert "Kortet är verifierat." in page and "Underkänd" not in page and "SHA-256" in page
    with app.app_context():
        from cardadmin.orders.models import Order

        card_id = db.session.get(Order, order_id).card_id
    card_page = client.get(f"/kort/{card_id}").get_data(as_text=True)
    assert card_page.count("Kortverifiering i läsaren") == 2  # both attempts in the card's history


def test_an_ra_officer_card_admin_of_another_desk_sees_nothing_through_the_error_page(desk: Any,
                                                                                        new_client: Any) -> None:
    """The PIN form's error page runs the hand-over page's desk rule: a user who may see the order as RA officer
    but works at another desk gets a 403, not the hand-over page with the holder's data."""
    app, world, _profile, order_id, _client = desk
    from cardadmin.roles import Role
    from tests.test_people import add_user

    with app.app_context():
        add_user(world, "ka_ra_umea", [Role.CARD_ADMIN, Role.RA_OFFICER], world.region_id, [world.other_desk_id])
    other = new_client(app)
    other.login("ka_ra_umea")
    answer = other.post_form(f"/utlamning/{order_id}/verifiera", {"pin": ""})
    assert answer.status_code == 403 and person_hsa_id() not in answer.get_data(as_text=True)
    assert _stored(app) == 0


def test_the_local_reader_is_refused_through_a_proxy(desk: Any, new_client: Any) -> None:
    """A browser behind a proxy on this computer arrives from 127.0.0.1 too; the proxy's header gives it away."""
    app, _world, _profile, order_id, _client = desk
    proxied = new_client(app)
    proxied.environ_base["HTTP_X_FORWARDED_FOR"] = "10.1.2.3"  # from login on, as a proxy would send it
    proxied.login("card_admin")
    answer = proxied.get("/utlamning/kortlasare/kort")
    assert answer.status_code == 403 and "egen dator" in answer.get_json()["error"]["message"]
    refused = proxied.post_form(f"/utlamning/{order_id}/verifiera", {"pin": PIN})
    assert refused.status_code == 403 and "egen dator" in refused.get_data(as_text=True)
    assert _stored(app) == 0


@pytest.mark.parametrize(("header", "value"), [("HTTP_FORWARDED", "for=10.1.2.3"), ("HTTP_X_REAL_IP", "10.1.2.3"),
                                               ("HTTP_X_FORWARDED_HOST", "kort.example")])
def test_the_local_reader_is_refused_through_any_proxy_header(desk: Any, new_client: Any, header: str,
                                                              value: str) -> None:
    """Forwarded (RFC 7239) and X-Real-IP (nginx) give a proxy away as X-Forwarded-For does (they were let through)."""
    app, _world, _profile, order_id, _client = desk
    proxied = new_client(app)
    proxied.environ_base[header] = value
    proxied.login("card_admin")
    refused = proxied.post_form(f"/utlamning/{order_id}/verifiera", {"pin": PIN})
    assert refused.status_code == 403 and "egen dator" in refused.get_data(as_text=True)
    assert _stored(app) == 0
