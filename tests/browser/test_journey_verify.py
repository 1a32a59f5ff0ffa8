"""Verifying a card at hand-over in a real browser, with the simulated card in the real pcscd (vpcd): "Läs
från kortläsaren" fills in the card number, "Verifiera kort" with the holder's PIN shows every check in
Swedish, a result stored meanwhile (as the desk agent would) appears without a reload, and the identity
check still hands the card over."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from cardadmin.db import db
from cardadmin.desk import verification
from hardware.simulator import SimulatedPivCard, VpcdBridge
from tests.browser.conftest import screenshot
from tests.browser.test_journey_login import _log_in
from tests.desk_support import PIN, DeskPki, make_desk_pki, order_at_desk, person_hsa_id
from tests.hardware.conftest import VPCD_HOST, VPCD_PORT, _wait_card_state, vpcd_reader  # noqa: F401
from tests.test_people import user

pytestmark = [pytest.mark.browser, pytest.mark.pcsc]


@pytest.fixture(scope="module")
def desk_pki(tmp_path_factory: pytest.TempPathFactory) -> DeskPki:
    return make_desk_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def app(make_app: Any, desk_pki: DeskPki, vpcd_reader: str) -> Any:  # noqa: F811 (the browser harness's app)
    return make_app(**desk_pki.config(CARDADMIN_READER=vpcd_reader))


def test_hand_over_page_verifies_the_card_in_the_reader(app: Any, live_server: str, page: Any, desk_pki: DeskPki,
                                                       vpcd_reader: str) -> None:  # noqa: F811
    base = live_server
    profile = desk_pki.card(person_hsa_id("V1"))
    with app.app_context():
        world = app.config["TEST_WORLD"]
        order_id = order_at_desk(world, profile.card_number or "", local="V1").id
    bridge = VpcdBridge(SimulatedPivCard(profile), VPCD_HOST, VPCD_PORT)
    _log_in(page, base, "card_admin")
    page.goto(f"{base}/utlamning/{order_id}/utlamning")
    try:
        expect(page.get_by_text("Kortet har inte verifierats än.")).to_be_visible()
        page.get_by_role("button", name="Läs från kortläsaren").click()
        expect(page.get_by_text("Inget kort i läsaren.")).to_be_visible()  # no card yet: said plainly
        bridge.insert()
        _wait_card_state(vpcd_reader, True)
        page.get_by_role("button", name="Läs från kortläsaren").click()
        expect(page.get_by_label("Kortnummer på kortet som lämnas ut")).to_have_value(profile.card_number or "")
        page.get_by_label("Kortinnehavarens PIN-kod (legitimering)").fill(PIN)
        page.get_by_role("button", name="Verifiera kort").click()
        expect(page.get_by_text("Kortet är verifierat: alla kontroller godkändes.")).to_be_visible()
        # The page reloaded: a verification never fills in the number the hand-over checks; reading the card does.
        expect(page.get_by_label("Kortnummer på kortet som lämnas ut")).to_have_value("")
        page.get_by_role("button", name="Läs från kortläsaren").click()
        expect(page.get_by_label("Kortnummer på kortet som lämnas ut")).to_have_value(profile.card_number or "")
        for label in ("HSA-id stämmer", "Kortnummer stämmer", "Kedja till betrodd utfärdare", "Giltigt nu",
                      "Inte spärrat (CRL)", "Kortet har den privata nyckeln (PIN)"):
            expect(page.get_by_role("row", name=label)).to_contain_text("Godkänd")
        assert PIN not in page.content()
        screenshot(page, "verify-1-card-verified")

        # A result stored meanwhile (the desk agent posts one) shows up without a reload.
        with app.app_context():
            verification.verify_card(user(world, "card_admin"), order_id, SimulatedPivCard(profile), "000000",
                                     app.config, source="desk_agent", reader="Desk reader 1")
            db.session.commit()
        expect(page.get_by_text("Kortet är INTE verifierat.")).to_be_visible(timeout=6000)
        expect(page.get_by_text("Fel PIN-kod, 2 försök kvar.")).to_be_visible()
        expect(page.get_by_role("row", name="Kortet har den privata nyckeln (PIN)")).to_contain_text("Underkänd")
        screenshot(page, "verify-2-agent-result-without-reload")
    finally:
        bridge.remove()
        _wait_card_state(vpcd_reader, False)

    # The identity check still hands the card over.
    page.get_by_label("Kortnummer på kortet som lämnas ut").fill(profile.card_number or "")
    page.get_by_label("Id-handling", exact=True).check()
    page.get_by_label("Typ av id-handling").select_option("passport")
    page.get_by_label("Id-handlingen giltig till").fill((date.today() + timedelta(days=700)).isoformat())
    page.get_by_label("Id-handlingens nummer").fill("AB1234567")
    page.get_by_role("button", name="Identiteten är kontrollerad – lämna ut kortet").click()
    expect(page.get_by_role("heading", name="Kvittens av SITHS-kort")).to_be_visible()
